/**
 * The part of the standard WebSocket the client uses, so any implementation fits: the global one
 * (browsers, Workers, Node 22+), or `ws` passed in on Node 20.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "open", listener: () => void): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  addEventListener(type: "close", listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: "error", listener: (event: unknown) => void): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** What one connection reported, in order. */
export type SocketItem =
  | { kind: "open" }
  | { kind: "message"; data: string }
  | { kind: "closed"; code: number; reason: string; opened: boolean }
  | { kind: "silent" };

/**
 * One WebSocket as a queue of what happened on it, read with a deadline: `next(ms)` answers
 * `silent` when nothing arrived for `ms`, which is how a stalled connection is noticed.
 */
export class QueuedSocket {
  readonly #socket: WebSocketLike;
  readonly #items: SocketItem[] = [];
  #wake: (() => void) | null = null;
  #opened = false;
  #closed = false;

  constructor(Socket: WebSocketConstructor, url: string) {
    this.#socket = new Socket(url);
    this.#socket.addEventListener("open", () => {
      this.#opened = true;
      this.#push({ kind: "open" });
    });
    this.#socket.addEventListener("message", (event) => {
      const data = typeof event.data === "string" ? event.data : null;
      // The edge sends text frames only; anything else is not one of its events.
      this.#push({ kind: "message", data: data ?? "" });
    });
    this.#socket.addEventListener("close", (event) => this.#end(event.code, event.reason));
    // An error is followed by a close in the standard API; `ws` and some runtimes skip it when
    // the handshake fails, so an error ends the connection here too.
    this.#socket.addEventListener("error", () => this.#end(1006, "error"));
  }

  send(data: string): void {
    if (this.#opened && !this.#closed) this.#socket.send(data);
  }

  /** The next item, `silent` after `ms` without one, or the signal's reason. */
  async next(ms: number, signal?: AbortSignal): Promise<SocketItem> {
    for (;;) {
      const item = this.#items.shift();
      if (item) return item;
      signal?.throwIfAborted();
      const outcome = await new Promise<"woke" | "silent" | "aborted">((resolve) => {
        const timer = setTimeout(() => resolve("silent"), ms);
        const onAbort = () => resolve("aborted");
        signal?.addEventListener("abort", onAbort, { once: true });
        this.#wake = () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          resolve("woke");
        };
      });
      this.#wake = null;
      if (outcome === "aborted") throw signal?.reason;
      if (outcome === "silent") return { kind: "silent" };
    }
  }

  /** Closes without waiting for the peer: a stalled peer would never finish the handshake. */
  close(code = 1000, reason = ""): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#socket.close(code, reason);
    } catch {
      // Closing a socket that is still connecting throws in some runtimes; it is abandoned either way.
    }
  }

  #end(code: number, reason: string): void {
    if (this.#items.some((item) => item.kind === "closed")) return;
    this.#push({ kind: "closed", code, reason, opened: this.#opened });
    this.#closed = true;
  }

  #push(item: SocketItem): void {
    this.#items.push(item);
    this.#wake?.();
  }
}
