import { sseEventName } from "../pipeline/fan-out.ts";
import { CLIENT_EVENTS, ref, type GeneratedSchemas, type JsonSchema } from "./openapi-schemas.ts";

const RETRY = { type: "integer", minimum: 0, description: "Milliseconds a client waits before it reconnects." };

/**
 * `text/event-stream` as OpenAPI 3.2 describes a sequence: each item is one SSE event (its `id`,
 * `event`, `data` and `retry` fields), and `data` holds the JSON of the client event it names.
 */
export function sseContent(): Record<string, unknown> {
  const events: JsonSchema[] = Object.entries(CLIENT_EVENTS).map(([name, schema]) => ({
    type: "object",
    properties: {
      id: {
        type: "string",
        pattern: "^[1-9][0-9]*$",
        description: "The event's `seq`: send it back as `Last-Event-ID`.",
      },
      event: { const: sseEventName(schema.shape.type.value) },
      data: {
        type: "string",
        contentMediaType: "application/json",
        contentSchema: ref(name as keyof typeof CLIENT_EVENTS),
      },
      retry: RETRY,
    },
    required: ["id", "event", "data"],
    additionalProperties: false,
  }));
  const retryOnly = {
    type: "object",
    properties: { retry: RETRY },
    required: ["retry"],
    additionalProperties: false,
  };
  return { "text/event-stream": { itemSchema: { oneOf: [retryOnly, ...events] } } };
}

/** The messages of a WebSocket route, in the `x-websocket` extension of its operation. */
export interface WebSocketMessages {
  description: string;
  /** What the client sends: each text frame is one JSON value of this schema. */
  client: JsonSchema;
  /** What the edge sends. */
  server: JsonSchema;
}

export function pipelineSocket(schemas: GeneratedSchemas, starts: boolean): WebSocketMessages {
  return {
    description:
      (starts
        ? "The first text frame is a GenerateRequest and starts the pipeline; later ones may be commands. "
        : "The events after `after` are replayed, then live ones follow. ") +
      'Each event is one text frame; `{"type":"ping"}` is answered with `{"type":"pong"}`; a frame that is not JSON or not valid gets an error frame without `seq` and the socket stays usable. The edge closes with 1000 after the final event.',
    client: starts
      ? { oneOf: [ref("GenerateRequest"), schemas.inline("ClientCommand")] }
      : schemas.inline("ClientCommand"),
    server: schemas.inline("ServerFrame"),
  };
}

export function agentSocket(schemas: GeneratedSchemas): WebSocketMessages {
  return {
    description:
      "The host-agent link: the agent's first frame is `hello`; the edge answers `welcome`, then assigns jobs and acks their events and results. Every frame carries `v`.",
    client: schemas.inline("AgentToEdge"),
    server: schemas.inline("EdgeToAgent"),
  };
}

export function poolSocket(schemas: GeneratedSchemas): WebSocketMessages {
  return {
    description:
      'The pool\'s live feed: an `overview` (health, status, metrics and the last five minutes in 10-second slices) when the socket opens and after every change, at most about once a second; `pipelines` notices when pipelines the key may see are queued, started or finished (re-read `GET /api/pipelines` then). `{"type":"ping"}` is answered with `{"type":"pong"}`; nothing else the client sends is read. A pool serves at most 64 feeds at once; past that the handshake is refused with 429.',
    client: schemas.inline("PoolPing"),
    server: schemas.inline("PoolEvent"),
  };
}
