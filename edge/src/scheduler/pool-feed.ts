import { z } from "zod";
import {
  POOL_CHANGES_MAX,
  type PipelineChange,
  type PipelinesChangedEvent,
  type PoolOverviewEvent,
} from "../../../shared/src/index.ts";
import { mayAccess, type Caller } from "../access/caller.ts";
import type { EdgeLogger } from "../log.ts";

/** The most live feeds one pool serves at once: each costs a socket and a send per change. */
export const POOL_WATCHERS_MAX = 64;
/** A burst of changes is sent together after this long... */
const BATCH_MS = 100;
/** ...and never more often than this: an overview is a few kilobytes and changes come with every pipeline. */
const MIN_INTERVAL_MS = 1_000;

const Watcher = z.object({ owner: z.string().nullable(), operator: z.boolean() });

export type WatchOutcome = { status: "open"; socket: WebSocket } | { status: "full" };

/**
 * The live feed of a pool (`GET /ws/pool`): hibernatable sockets the scheduler holds, each sent
 * the pool's overview when it opens and after every change, and notices of the pipelines its
 * caller may see. Changes are coalesced: whatever happens in a second costs one overview per socket.
 * The overview is only built when someone watches.
 */
export class PoolFeed {
  readonly #ctx: DurableObjectState;
  readonly #overview: () => PoolOverviewEvent;
  readonly #log: EdgeLogger;
  #watchers: number;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #lastSent = 0;
  #overviewDue = false;
  #changes: Array<{ change: PipelineChange; owner: string | null }> = [];
  #more = false;

  constructor(ctx: DurableObjectState, overview: () => PoolOverviewEvent, log: EdgeLogger) {
    this.#ctx = ctx;
    this.#overview = overview;
    this.#log = log;
    this.#watchers = ctx.getWebSockets().length;
  }

  get watched(): boolean {
    return this.#watchers > 0;
  }

  /** Opens a feed for `caller`, its first overview already sent; refused past POOL_WATCHERS_MAX. */
  open(caller: Caller): WatchOutcome {
    this.#watchers = this.#ctx.getWebSockets().length;
    if (this.#watchers >= POOL_WATCHERS_MAX) return { status: "full" };
    const { 0: client, 1: server } = new WebSocketPair();
    this.#ctx.acceptWebSocket(server);
    server.serializeAttachment({ owner: caller.owner, operator: caller.operator });
    this.#watchers += 1;
    this.#send(server, JSON.stringify(this.#overview()));
    return { status: "open", socket: client };
  }

  /** Something the overview shows changed. */
  changed(): void {
    if (!this.watched) return;
    this.#overviewDue = true;
    this.#schedule();
  }

  /** A pipeline was queued, started or finished; `owner` decides who hears of it. */
  pipelineChanged(change: PipelineChange, owner: string | null): void {
    if (!this.watched) return;
    if (this.#changes.length < POOL_CHANGES_MAX) this.#changes.push({ change, owner });
    else this.#more = true;
    this.#overviewDue = true;
    this.#schedule();
  }

  /** A socket closed or failed: it is no longer counted. */
  closed(ws: WebSocket): void {
    try {
      ws.close(1000, "closed");
    } catch {
      // Already closed by its client: nothing left to do.
    }
    this.#watchers = this.#ctx.getWebSockets().filter((socket) => socket !== ws).length;
  }

  #schedule(): void {
    if (this.#timer !== null) return;
    const wait = Math.max(BATCH_MS, this.#lastSent + MIN_INTERVAL_MS - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#flush();
    }, wait);
  }

  #flush(): void {
    this.#lastSent = Date.now();
    const sockets = this.#ctx.getWebSockets();
    this.#watchers = sockets.length;
    const changes = this.#changes;
    const more = this.#more;
    this.#changes = [];
    this.#more = false;
    if (sockets.length === 0) return;
    const overview = this.#overviewDue ? JSON.stringify(this.#overview()) : null;
    this.#overviewDue = false;
    for (const ws of sockets) {
      if (overview !== null) this.#send(ws, overview);
      const watcher = Watcher.safeParse(ws.deserializeAttachment());
      if (!watcher.success) continue;
      const visible = changes.filter((entry) => mayAccess(entry.owner, watcher.data)).map((entry) => entry.change);
      if (visible.length === 0 && !more) continue;
      const event: PipelinesChangedEvent = { type: "pipelines", changes: visible, more };
      this.#send(ws, JSON.stringify(event));
    }
  }

  #send(ws: WebSocket, text: string): void {
    try {
      ws.send(text);
    } catch (error) {
      this.#log.debug("a pool feed socket is gone", { error });
      this.closed(ws);
    }
  }
}
