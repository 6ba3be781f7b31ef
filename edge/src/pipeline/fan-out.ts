import { z } from "zod";
import { closeQuietly } from "../sockets/close-quietly.ts";
import type { StoredEvent } from "./event-log.ts";

/** What a client socket remembers across hibernation (its attachment, far under 2 KB). */
export const SocketAttachment = z.object({
  /** `start`: this socket's first message starts the pipeline (`/ws/stream`). */
  role: z.enum(["start", "subscribe"]),
  /** Leave `content` out of chunks (`stream_mode: "delta"`). */
  delta_only: z.boolean(),
  /** The request id of the HTTP upgrade, for the pipeline a `start` socket creates. */
  request_id: z.string().optional(),
  /** The id of the API key that opened a `start` socket: the owner of the pipeline it creates. */
  owner: z.string().max(64).optional(),
});
export type SocketAttachment = z.infer<typeof SocketAttachment>;

export function readAttachment(ws: WebSocket): SocketAttachment {
  const parsed = SocketAttachment.safeParse(ws.deserializeAttachment());
  return parsed.success ? parsed.data : { role: "subscribe", delta_only: false };
}

/** The wire form of an event for one client: chunks carry the running `content` unless delta-only. */
export function wireEvent(event: StoredEvent, content: string | undefined, deltaOnly: boolean): string {
  if (event.type === "chunk" && content !== undefined && !deltaOnly) return JSON.stringify({ ...event, content });
  return JSON.stringify(event);
}

/**
 * The SSE name of an event: its type, except a pipeline's failure, which is `pipeline_error`, since
 * an EventSource fires `error` for its own connection errors (the data keeps `"type": "error"`).
 */
export function sseEventName(type: StoredEvent["type"]): string {
  return type === "error" ? "pipeline_error" : type;
}

export function sseFrame(event: StoredEvent, content: string | undefined, deltaOnly: boolean): string {
  return `id: ${event.seq}\nevent: ${sseEventName(event.type)}\ndata: ${wireEvent(event, content, deltaOnly)}\n\n`;
}

interface SseSubscriber {
  writer: WritableStreamDefaultWriter<Uint8Array>;
  deltaOnly: boolean;
}

/**
 * Sends each event to every subscriber: the hibernating `/ws/stream` sockets (from the Durable
 * Object's state), the sockets that follow the pipeline and the SSE streams (both in memory). One
 * failing subscriber is dropped and never stops the others.
 */
export class FanOut {
  #ctx: DurableObjectState;
  #sse = new Set<SseSubscriber>();
  /** `/ws/pipelines/:id` followers, by whether they take chunks without the running content. */
  #followers = new Map<WebSocket, boolean>();
  #encoder = new TextEncoder();

  constructor(ctx: DurableObjectState) {
    this.#ctx = ctx;
  }

  get subscriberCount(): number {
    return this.#ctx.getWebSockets().length + this.#followers.size + this.#sse.size;
  }

  broadcast(event: StoredEvent, content: string | undefined): void {
    for (const ws of this.#ctx.getWebSockets()) {
      try {
        ws.send(wireEvent(event, content, readAttachment(ws).delta_only));
      } catch {
        // A socket that cannot take a frame is gone; closing it frees its slot.
        closeQuietly(ws, 1011, "send failed");
      }
    }
    for (const [ws, deltaOnly] of this.#followers) {
      try {
        ws.send(wireEvent(event, content, deltaOnly));
      } catch {
        this.#followers.delete(ws);
        closeQuietly(ws, 1011, "send failed");
      }
    }
    for (const sub of this.#sse) {
      sub.writer
        .write(this.#encoder.encode(sseFrame(event, content, sub.deltaOnly)))
        .catch(() => this.#sse.delete(sub));
    }
  }

  /** Opens an SSE stream; `replay` writes what came before, then live events follow. */
  openSse(deltaOnly: boolean, replay: (write: (frame: string) => void) => void): ReadableStream<Uint8Array> {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    const sub = { writer, deltaOnly };
    replay((frame) => {
      writer.write(this.#encoder.encode(frame)).catch(() => this.#sse.delete(sub));
    });
    this.#sse.add(sub);
    return readable;
  }

  /** A follower socket (accepted, its replay sent) takes live events until it or the pipeline ends. */
  addFollower(ws: WebSocket, deltaOnly: boolean): void {
    this.#followers.set(ws, deltaOnly);
  }

  removeFollower(ws: WebSocket): void {
    this.#followers.delete(ws);
  }

  /** Ends every stream after the final event: the pipeline has nothing more to say. */
  closeAll(reason: string): void {
    for (const ws of this.#ctx.getWebSockets()) closeQuietly(ws, 1000, reason);
    for (const ws of this.#followers.keys()) closeQuietly(ws, 1000, reason);
    this.#followers.clear();
    for (const sub of this.#sse) sub.writer.close().catch(() => undefined);
    this.#sse.clear();
  }
}
