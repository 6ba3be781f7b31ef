import { FINAL_STATES } from "../../../shared/src/index.ts";
import { ContentTracker, type EventLog, type StoredEvent } from "./event-log.ts";
import { closeQuietly } from "../sockets/close-quietly.ts";
import { sseFrame, wireEvent, type FanOut, type SocketAttachment } from "./fan-out.ts";
import type { PipelineRecord } from "./record.ts";

function jsonError(status: number, code: string, message: string, requestId: string): Response {
  return Response.json({ success: false, error: { code, message }, request_id: requestId }, { status });
}

/**
 * How long an EventSource waits before it reconnects after a dropped stream: long enough not to
 * hammer the edge, short enough that a dropped client catches up within a couple of seconds.
 */
const SSE_RETRY = "retry: 2000\n\n";

/** The `after` the route validated and put in the object's URL (0 when absent). */
function afterOf(url: URL): number {
  const after = Number.parseInt(url.searchParams.get("after") ?? "0", 10);
  return Number.isFinite(after) && after > 0 ? after : 0;
}

/**
 * How clients attach to a pipeline: WebSockets (hibernating, via the Durable Object's state) and
 * SSE streams. Each new one first gets what it missed from the event log, then live events from
 * the fan-out; both happen in one synchronous step, so no event falls between them.
 */
export class ClientStreams {
  readonly #ctx: DurableObjectState;
  readonly #fanOut: FanOut;
  readonly #log: EventLog;
  readonly #maxSubscribers: number;

  readonly #onFollowerMessage: (ws: WebSocket, message: string | ArrayBuffer) => void;

  constructor(
    ctx: DurableObjectState,
    fanOut: FanOut,
    log: EventLog,
    maxSubscribers: number,
    onFollowerMessage: (ws: WebSocket, message: string | ArrayBuffer) => void,
  ) {
    this.#onFollowerMessage = onFollowerMessage;
    this.#ctx = ctx;
    this.#fanOut = fanOut;
    this.#log = log;
    this.#maxSubscribers = maxSubscribers;
  }

  /** Accepts a client WebSocket: `role=start` (its first message starts the pipeline) or `subscribe` (replay after `after`, then live). */
  acceptSocket(request: Request, url: URL, record: PipelineRecord | null): Response {
    const role = url.searchParams.get("role") === "start" ? "start" : "subscribe";
    if (role === "subscribe" && !record) {
      return jsonError(404, "not_found", "no such pipeline", request.headers.get("X-Request-Id") ?? "");
    }
    if (this.#fanOut.subscriberCount >= this.#maxSubscribers) {
      return jsonError(
        429,
        "rate_limited",
        `pipeline has ${this.#maxSubscribers} subscribers, the limit (ATOMIC_MAX_SUBSCRIBERS)`,
        request.headers.get("X-Request-Id") ?? "",
      );
    }
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    const attachment: SocketAttachment = {
      role,
      delta_only: url.searchParams.get("mode") === "delta" || record?.request.metadata?.stream_mode === "delta",
    };
    if (record) {
      // A follower is held in memory, like an SSE stream, not handed to hibernation: the runtime
      // keeps a hibernated socket that the object closes before the client has sent a frame
      // open ~10 s after the close, and a follower usually never sends one. It lives only as
      // long as the pipeline runs, and the object is busy running it anyway.
      server.accept();
      this.replay(afterOf(url), (event, content) => server.send(wireEvent(event, content, attachment.delta_only)));
      if (FINAL_STATES.has(record.state)) {
        closeQuietly(server, 1000, "pipeline finished");
      } else {
        this.#fanOut.addFollower(server, attachment.delta_only);
        server.addEventListener("message", (event) => this.#onFollowerMessage(server, event.data));
        server.addEventListener("close", (event) => {
          this.#fanOut.removeFollower(server);
          closeQuietly(server, event.code === 1005 || event.code === 1006 ? 1000 : event.code, event.reason);
        });
        server.addEventListener("error", () => this.#fanOut.removeFollower(server));
      }
      return new Response(null, { status: 101, webSocket: client });
    }
    // A /ws/stream socket sends its prompt first, and hibernates between events.
    this.#ctx.acceptWebSocket(server, [role]);
    const owner = url.searchParams.get("owner");
    server.serializeAttachment({
      ...attachment,
      request_id: request.headers.get("X-Request-Id") ?? crypto.randomUUID(),
      ...(owner !== null ? { owner } : {}),
    });
    return new Response(null, { status: 101, webSocket: client });
  }

  /**
   * Opens an SSE stream of the events after `after`, then live ones. A finished pipeline answers
   * with what is left and ends the stream; with nothing left, 204, which tells an EventSource to
   * stop reconnecting.
   */
  openSse(url: URL, record: PipelineRecord | null): Response {
    if (!record) return jsonError(404, "not_found", "no such pipeline", "");
    const after = afterOf(url);
    const deltaOnly = url.searchParams.get("mode") === "delta" || record.request.metadata?.stream_mode === "delta";
    const headers = {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      "X-Accel-Buffering": "no",
    };
    if (FINAL_STATES.has(record.state)) {
      if (after >= this.#log.lastSeq)
        return new Response(null, { status: 204, headers: { "Cache-Control": "no-store" } });
      let body = SSE_RETRY;
      this.replay(after, (event, content) => (body += sseFrame(event, content, deltaOnly)));
      return new Response(body, { headers });
    }
    const stream = this.#fanOut.openSse(deltaOnly, (write) => {
      write(SSE_RETRY);
      this.replay(after, (event, content) => write(sseFrame(event, content, deltaOnly)));
    });
    return new Response(stream, { headers });
  }

  /** Sends every stored event after `after`, each chunk with the running content it had. */
  replay(after: number, send: (event: StoredEvent, content: string | undefined) => void): void {
    const tracker = new ContentTracker();
    for (const event of this.#log.since(0)) {
      const content = tracker.feed(event);
      if ((event.seq ?? 0) > after) send(event, content);
    }
  }
}
