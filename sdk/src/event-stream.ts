import { z } from "zod";
import { ERROR_STATUS } from "../../shared/src/errors.ts";
import type { GenerateRequest } from "../../shared/src/protocol/api.ts";
import { ClientEvent } from "../../shared/src/protocol/client-events.ts";
import { AtomicApiError, AtomicConnectionError, AtomicProtocolError } from "./errors.ts";
import { QueuedSocket, type WebSocketConstructor } from "./socket.ts";
import { sleep } from "./timers.ts";
import { backoffMs } from "./transport.ts";

/** What a stream starts from: a new pipeline (`/ws/stream`) or one that exists (`/ws/pipelines/:id`). */
export type StreamSource =
  { kind: "start"; request: z.input<typeof GenerateRequest> } | { kind: "follow"; pipelineId: string; after: number };

export interface StreamOptions {
  signal?: AbortSignal | undefined;
  /** A connection silent for longer than this is dropped and resumed (pings keep a live one talking). Default 30 s. */
  stallMs?: number | undefined;
  /** Reconnections in a row without a new event before the stream gives up. Default 8. */
  reconnects?: number | undefined;
}

export interface StreamContext {
  wsUrl(path: string, query: Record<string, string>): string;
  WebSocket: WebSocketConstructor;
  /** The pipeline's state and last seq, to tell a finished pipeline from a dropped connection. */
  progress(pipelineId: string, signal?: AbortSignal): Promise<{ final: boolean; lastSeq: number }>;
  /**
   * After a refused handshake (a WebSocket does not tell why): throws the edge's typed refusal of
   * the route (401, 404, …), waiting out a 429's `Retry-After`; returns when it would accept.
   */
  explainRefusal(pipelineId: string | null, signal?: AbortSignal): Promise<void>;
}

const KNOWN_TYPES = new Set<string>(ClientEvent.options.map((option) => option.shape.type.value));
/** Enough of a frame to keep count of a type this client does not know yet (clients ignore those). */
const Envelope = z.looseObject({ type: z.string(), seq: z.number().int().positive().optional() });

const DEFAULT_STALL_MS = 30_000;
const DEFAULT_RECONNECTS = 8;
const PING = JSON.stringify({ type: "ping" });

/**
 * A pipeline's events over WebSocket, each validated on arrival and yielded exactly once, in seq
 * order, until `result` or `error`. A connection that closes, errors or stays silent past
 * `stallMs` is replaced by `/ws/pipelines/:id?after=<last seq yielded>`, which replays what was
 * missed; a frame already yielded is skipped, a gap reconnects.
 */
export async function* pipelineEvents(
  context: StreamContext,
  source: StreamSource,
  options: StreamOptions = {},
): AsyncGenerator<ClientEvent, void, undefined> {
  const { signal } = options;
  const stallMs = options.stallMs ?? DEFAULT_STALL_MS;
  const reconnects = options.reconnects ?? DEFAULT_RECONNECTS;
  let pipelineId = source.kind === "follow" ? source.pipelineId : null;
  let last = source.kind === "follow" ? source.after : 0;
  let failures = 0;

  for (;;) {
    signal?.throwIfAborted();
    const url =
      pipelineId === null
        ? context.wsUrl("/ws/stream", {})
        : context.wsUrl(`/ws/pipelines/${encodeURIComponent(pipelineId)}`, { after: String(last) });
    const socket = new QueuedSocket(context.WebSocket, url);
    const progressBefore = last;
    let cleanEnd = false;
    let refused = false;
    let sent = false;
    const pinger = setInterval(() => socket.send(PING), Math.max(50, Math.floor(stallMs / 3)));
    try {
      connection: for (;;) {
        const item = await socket.next(stallMs, signal);
        switch (item.kind) {
          case "open":
            if (pipelineId === null && source.kind === "start") {
              socket.send(JSON.stringify(source.request));
              sent = true;
            }
            continue;
          case "silent":
            socket.close(4000, "stalled");
            break connection;
          case "closed":
            cleanEnd = item.code === 1000;
            refused = !item.opened;
            break connection;
          case "message":
            break;
        }
        const frame = readFrame(item.data);
        if (frame.kind === "pong" || frame.kind === "unknown-unsequenced") continue;
        if (frame.kind === "refused") {
          // The edge refused our own frame. On a starting socket that means no pipeline started.
          if (pipelineId === null) {
            throw new AtomicApiError({ status: ERROR_STATUS[frame.code], code: frame.code, message: frame.message });
          }
          continue;
        }
        const seq = frame.seq;
        if (seq <= last) continue;
        if (seq > last + 1) {
          socket.close(4001, "gap");
          break connection;
        }
        last = seq;
        failures = 0;
        if (frame.kind === "unknown") continue;
        const event = frame.event;
        pipelineId ??= event.pipeline_id ?? null;
        yield event;
        if (event.type === "result" || event.type === "error") return;
      }
    } finally {
      clearInterval(pinger);
      socket.close();
    }

    if (refused) await context.explainRefusal(pipelineId, signal);
    if (pipelineId === null && sent) {
      throw new AtomicConnectionError(
        "the connection ended before the edge named the pipeline; it may or may not have started",
        null,
        last,
      );
    }
    // A follower of a finished pipeline is sent what is left, then closed: with nothing new, the
    // pipeline ended at or before `last` and there is nothing more to yield.
    if (pipelineId !== null && cleanEnd && last === progressBefore) {
      const progress = await context.progress(pipelineId, signal);
      if (progress.final && progress.lastSeq <= last) return;
    }
    failures++;
    if (failures > reconnects) {
      throw new AtomicConnectionError(
        `gave up on ${pipelineId === null ? "starting a pipeline" : `pipeline ${pipelineId}`} after ${reconnects} reconnections without a new event (last seq ${last})`,
        pipelineId,
        last,
      );
    }
    if (failures > 1) await sleep(backoffMs(failures - 2, 5_000), signal);
  }
}

type Frame =
  | { kind: "event"; seq: number; event: ClientEvent }
  | { kind: "unknown"; seq: number }
  | { kind: "unknown-unsequenced" }
  | { kind: "pong" }
  | { kind: "refused"; code: RefusedCode; message: string };

type RefusedCode = Extract<ClientEvent, { type: "error" }>["code"];

function readFrame(data: string): Frame {
  let body: unknown;
  try {
    body = JSON.parse(data);
  } catch {
    throw new AtomicProtocolError("a WebSocket frame is not JSON", null, data);
  }
  const envelope = Envelope.safeParse(body);
  if (!envelope.success) throw new AtomicProtocolError("a WebSocket frame has no type", null, data);
  if (envelope.data.type === "pong") return { kind: "pong" };
  if (!KNOWN_TYPES.has(envelope.data.type)) {
    const seq = envelope.data.seq;
    return seq === undefined ? { kind: "unknown-unsequenced" } : { kind: "unknown", seq };
  }
  const parsed = ClientEvent.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "invalid";
    throw new AtomicProtocolError(
      `a ${envelope.data.type} event does not match the API's schema (${where})`,
      null,
      data,
    );
  }
  const event = parsed.data;
  if (event.seq === undefined) {
    if (event.type !== "error") throw new AtomicProtocolError("an event has no seq", null, data);
    return { kind: "refused", code: event.code, message: event.error };
  }
  return { kind: "event", seq: event.seq, event };
}
