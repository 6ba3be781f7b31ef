import { Backoff } from "../link/backoff.ts";
import type { Logger } from "../log.ts";
import { IpcConnection } from "./ipc-connection.ts";
import { IpcError } from "./ipc-error.ts";

export interface ConnectionSetOptions {
  socketPath: string;
  /** Most connections open at once. */
  size: number;
  maxLineBytes: number;
  connectTimeoutMs: number;
  reconnectBaseMs: number;
  reconnectCapMs: number;
  logger: Logger;
  /** A connection that was open has been lost (the agent restarted, crashed or broke the protocol). */
  onLost?: (reason: IpcError) => void;
}

type SlotState = "idle" | "connecting" | "open" | "backoff";

interface Slot {
  state: SlotState;
  connection: IpcConnection | null;
  connecting: Promise<IpcConnection> | null;
  timer: NodeJS.Timeout | null;
  backoff: Backoff;
  /** Callers waiting for this slot's connection to open: load it will carry. */
  waiters: number;
}

export interface ConnectionStats {
  size: number;
  open: number;
  connecting: number;
  /** Slots waiting to reconnect after a lost connection or a failed attempt. */
  backoff: number;
  /** Connections opened since the start, reconnections included. */
  opened: number;
  /** Calls in flight on each open connection. */
  inFlight: number[];
}

/**
 * Up to `size` connections to one agent socket, opened as load asks for them. A slot whose
 * connection drops reconnects in the background with capped exponential backoff and full jitter,
 * so the pool is whole again soon after the agent restarts; a caller that finds no open
 * connection tries one at once instead of waiting for a timer.
 */
export class ConnectionSet {
  readonly #options: ConnectionSetOptions;
  readonly #slots: Slot[];
  readonly #log: Logger;
  #opened = 0;
  #closed = false;

  constructor(options: ConnectionSetOptions) {
    this.#options = options;
    this.#log = options.logger;
    this.#slots = Array.from({ length: options.size }, () => ({
      state: "idle" as SlotState,
      connection: null,
      connecting: null,
      timer: null,
      waiters: 0,
      backoff: new Backoff({
        baseMs: options.reconnectBaseMs,
        capMs: options.reconnectCapMs,
        stableMs: options.reconnectCapMs,
      }),
    }));
  }

  /**
   * A connection for one more call: an open one with nothing in flight, else a newly opened one
   * while the pool is below its size, else the least loaded one (counting calls already waiting
   * for a connection that is still being opened).
   */
  async acquire(): Promise<IpcConnection> {
    if (this.#closed) throw closedError();
    const free = this.#slots.find((slot) => slot.state === "open" && load(slot) === 0);
    if (free?.connection) return free.connection;
    const idle = this.#slots.find((slot) => slot.state === "idle");
    if (idle) {
      try {
        return await this.#wait(idle, this.#connect(idle));
      } catch (error) {
        if (!this.#slots.some((slot) => slot.state === "open" || slot.state === "connecting")) throw error;
      }
    }
    const candidates = this.#slots.filter((slot) => slot.state === "open" || slot.state === "connecting");
    const best = candidates.reduce<Slot | null>(
      (min, slot) => (min === null || load(slot) < load(min) ? slot : min),
      null,
    );
    if (best?.state === "open" && best.connection) return best.connection;
    if (best?.connecting) return this.#wait(best, best.connecting);
    // Every slot is waiting to reconnect: try one now rather than fail while a timer runs.
    const waiting = this.#slots.find((slot) => slot.state === "backoff");
    if (waiting) {
      if (waiting.timer) clearTimeout(waiting.timer);
      waiting.timer = null;
      return this.#wait(waiting, this.#connect(waiting));
    }
    throw closedError();
  }

  async #wait(slot: Slot, connecting: Promise<IpcConnection>): Promise<IpcConnection> {
    slot.waiters += 1;
    try {
      return await connecting;
    } finally {
      slot.waiters -= 1;
    }
  }

  stats(): ConnectionStats {
    const count = (state: SlotState) => this.#slots.filter((slot) => slot.state === state).length;
    return {
      size: this.#slots.length,
      open: count("open"),
      connecting: count("connecting"),
      backoff: count("backoff"),
      opened: this.#opened,
      inFlight: this.#open().map((connection) => connection.inFlight),
    };
  }

  /** Closes every connection (their calls fail with `reason`) and cancels every reconnect timer. */
  close(reason: IpcError = closedError()): void {
    this.#closed = true;
    for (const slot of this.#slots) {
      if (slot.timer) clearTimeout(slot.timer);
      slot.timer = null;
      slot.connection?.close(reason);
      slot.connection = null;
      slot.state = "idle";
    }
  }

  #open(): IpcConnection[] {
    const open: IpcConnection[] = [];
    for (const slot of this.#slots) if (slot.state === "open" && slot.connection?.open) open.push(slot.connection);
    return open;
  }

  #connect(slot: Slot): Promise<IpcConnection> {
    if (slot.connecting) return slot.connecting;
    slot.state = "connecting";
    const attempt = IpcConnection.connect({
      socketPath: this.#options.socketPath,
      maxLineBytes: this.#options.maxLineBytes,
      connectTimeoutMs: this.#options.connectTimeoutMs,
      logger: this.#log,
      onClose: (connection, reason) => this.#lost(slot, connection, reason),
    }).then(
      (connection) => {
        slot.connecting = null;
        if (this.#closed) {
          connection.close(closedError());
          throw closedError();
        }
        if (slot.backoff.attempt > 0)
          this.#log.info("reconnected to the LLM agent", { socket: this.#options.socketPath });
        slot.state = "open";
        slot.connection = connection;
        slot.backoff.connected();
        this.#opened += 1;
        return connection;
      },
      (error: unknown) => {
        slot.connecting = null;
        if (!this.#closed) {
          const fields = {
            socket: this.#options.socketPath,
            error: error instanceof Error ? error.message : String(error),
          };
          // The first failure of a series is news; the retries after it are not.
          if (slot.backoff.attempt === 0) this.#log.warn("the LLM agent is unreachable; retrying with backoff", fields);
          else this.#log.debug("the LLM agent is still unreachable", { ...fields, attempt: slot.backoff.attempt });
          this.#retryLater(slot);
        }
        throw error;
      },
    );
    slot.connecting = attempt;
    return attempt;
  }

  #lost(slot: Slot, connection: IpcConnection, reason: IpcError): void {
    if (slot.connection !== connection) return;
    slot.connection = null;
    slot.backoff.disconnected();
    if (this.#closed) {
      slot.state = "idle";
      return;
    }
    this.#log.warn("lost a connection to the LLM agent; reconnecting", { reason: reason.message });
    this.#retryLater(slot);
    this.#options.onLost?.(reason);
  }

  #retryLater(slot: Slot): void {
    const delay = slot.backoff.next();
    slot.state = "backoff";
    slot.timer = setTimeout(() => {
      slot.timer = null;
      this.#connect(slot).catch((retryError: unknown) => {
        // #connect already scheduled the next try; this only keeps the rejection handled.
        this.#log.debug("reconnect attempt failed", { error: String(retryError) });
      });
    }, delay);
    // Reconnecting alone must not keep a process alive; close() clears the timer anyway.
    slot.timer.unref();
  }
}

function load(slot: Slot): number {
  return (slot.connection?.inFlight ?? 0) + slot.waiters;
}

function closedError(): IpcError {
  return new IpcError("llm_unavailable", "the IPC pool is closed", true);
}
