import WebSocket from "ws";

/** A WebSocket client that records every JSON message and lets a test wait for one. */
export class RecordingSocket {
  readonly ws: WebSocket;
  readonly messages: unknown[] = [];
  closed: { code: number; reason: string } | null = null;
  #listeners = new Set<() => void>();

  constructor(url: string, headers: Record<string, string> = {}) {
    this.ws = new WebSocket(url, { headers });
    this.ws.on("message", (data) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(data.toString());
      } catch {
        parsed = { unparsed: data.toString() };
      }
      this.messages.push(parsed);
      for (const listener of this.#listeners) listener();
    });
    this.ws.on("close", (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const listener of this.#listeners) listener();
    });
    this.ws.on("error", () => {
      for (const listener of this.#listeners) listener();
    });
  }

  opened(timeoutMs = 10_000): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("socket did not open")), timeoutMs);
      this.ws.once("open", () => {
        clearTimeout(timer);
        resolve();
      });
      this.ws.once("unexpected-response", (_req, res) => {
        clearTimeout(timer);
        reject(new Error(`upgrade refused: ${res.statusCode}`));
      });
      this.ws.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  send(message: unknown): void {
    this.ws.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** Resolves with the first recorded message (from index `from`) that matches. */
  waitFor<T = Record<string, unknown>>(
    predicate: (message: Record<string, unknown>) => boolean,
    timeoutMs = 10_000,
    from = 0,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        for (let i = from; i < this.messages.length; i++) {
          const message = this.messages[i];
          if (isRecord(message) && predicate(message)) {
            cleanup();
            resolve(message as T);
            return true;
          }
        }
        if (this.closed) {
          cleanup();
          reject(
            new Error(
              `socket closed (${this.closed.code} ${this.closed.reason}) before a matching message; got ${JSON.stringify(this.messages).slice(0, 2000)}`,
            ),
          );
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching message in ${timeoutMs} ms; got ${JSON.stringify(this.messages).slice(-2000)}`));
      }, timeoutMs);
      const listener = () => void check();
      const cleanup = () => {
        clearTimeout(timer);
        this.#listeners.delete(listener);
      };
      this.#listeners.add(listener);
      check();
    });
  }

  waitClosed(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    return new Promise((resolve, reject) => {
      if (this.closed) return resolve(this.closed);
      const timer = setTimeout(() => reject(new Error("socket did not close")), timeoutMs);
      this.ws.once("close", (code, reason) => {
        clearTimeout(timer);
        resolve({ code, reason: reason.toString() });
      });
    });
  }

  close(): void {
    this.ws.close();
  }

  terminate(): void {
    this.ws.terminate();
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
