import {
  PoolEvent,
  type PipelinesChangedEvent,
  type PoolOverviewEvent,
} from "../../../shared/src/protocol/pool-events.ts";
import { reconnectDelayMs } from "../backoff.ts";

export type FeedStatus = "connecting" | "live" | "reconnecting";

/**
 * An idle pool sends nothing, and proxies drop connections that stay silent: a ping every so often
 * keeps the socket in use (the edge answers it without waking the scheduler), and a socket that
 * heard nothing, not even its pong, for two of them is taken for dead and dialled again.
 */
const PING_EVERY_MS = 30_000;
const SILENT_FOR_MS = 2 * PING_EVERY_MS + 5_000;

export interface PoolFeedHandlers {
  status(status: FeedStatus): void;
  overview(event: PoolOverviewEvent): void;
  pipelines(event: PipelinesChangedEvent): void;
}

/**
 * The pool's live feed (`/ws/pool`): one WebSocket, dialled again with backoff whenever it drops
 * or is refused (a browser does not say why a handshake failed, so a refusal looks like a drop).
 * Frames that do not parse are skipped: a newer edge may send types this page does not know.
 */
export class PoolFeed {
  readonly #url: string;
  readonly #handlers: PoolFeedHandlers;
  #socket: WebSocket | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #attempt = 0;
  #stopped = false;
  #keepalive: ReturnType<typeof setInterval> | null = null;
  #heardAt = 0;

  constructor(options: { origin: string; pool: string; apiKey: string | null; handlers: PoolFeedHandlers }) {
    const url = new URL("/ws/pool", options.origin);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("pool", options.pool);
    if (options.apiKey !== null) url.searchParams.set("access_token", options.apiKey);
    this.#url = url.toString();
    this.#handlers = options.handlers;
  }

  start(): void {
    this.#handlers.status("connecting");
    this.#dial();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#stopKeepalive();
    this.#socket?.close(1000);
    this.#socket = null;
  }

  #dial(): void {
    if (this.#stopped) return;
    const socket = new WebSocket(this.#url);
    this.#socket = socket;
    this.#heardAt = Date.now();
    this.#stopKeepalive();
    this.#keepalive = setInterval(() => {
      if (Date.now() - this.#heardAt > SILENT_FOR_MS) socket.close(4000, "silent");
      else if (socket.readyState === WebSocket.OPEN) socket.send('{"type":"ping"}');
    }, PING_EVERY_MS);
    socket.addEventListener("message", (message) => {
      this.#heardAt = Date.now();
      if (this.#stopped || typeof message.data !== "string") return;
      let parsed;
      try {
        parsed = PoolEvent.safeParse(JSON.parse(message.data));
      } catch {
        return;
      }
      if (!parsed.success) return;
      // Only a frame that parses proves the feed works: a socket that opens and then closes
      // at once must keep backing off, not redial every second.
      this.#attempt = 0;
      this.#handlers.status("live");
      if (parsed.data.type === "overview") this.#handlers.overview(parsed.data);
      else this.#handlers.pipelines(parsed.data);
    });
    socket.addEventListener("close", () => {
      if (this.#stopped || this.#socket !== socket) return;
      this.#socket = null;
      this.#stopKeepalive();
      this.#handlers.status("reconnecting");
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#dial();
      }, reconnectDelayMs(this.#attempt++));
    });
  }

  #stopKeepalive(): void {
    if (this.#keepalive !== null) clearInterval(this.#keepalive);
    this.#keepalive = null;
  }
}
