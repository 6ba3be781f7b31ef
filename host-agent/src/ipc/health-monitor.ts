import type { Logger } from "../log.ts";

/** What the host-agent knows about its LLM agent. */
export interface IpcHealth {
  /** `unavailable`: the socket could not be reached; `unhealthy`: the agent answered that it is not well. */
  status: "healthy" | "unhealthy" | "unavailable";
  provider?: string;
  model?: string;
  detail?: string;
}

export type HealthListener = (health: IpcHealth, previous: IpcHealth) => void;

export interface HealthMonitorOptions {
  /** Time between checks; 0 turns periodic checks off (checkNow() still works). */
  intervalMs: number;
  check: () => Promise<IpcHealth>;
  logger: Logger;
}

function same(a: IpcHealth, b: IpcHealth): boolean {
  return a.status === b.status && a.provider === b.provider && a.model === b.model && a.detail === b.detail;
}

/** Runs a health check now and then, keeps the latest answer, and tells listeners when it changes. */
export class HealthMonitor {
  readonly #options: HealthMonitorOptions;
  readonly #listeners = new Set<HealthListener>();
  #current: IpcHealth = { status: "unavailable", detail: "not checked yet" };
  #running: Promise<IpcHealth> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #started = false;
  #stopped = false;

  constructor(options: HealthMonitorOptions) {
    this.#options = options;
  }

  get current(): IpcHealth {
    return this.#current;
  }

  /** Checks at once, then every `intervalMs`. */
  start(): void {
    if (this.#stopped || this.#started) return;
    this.#started = true;
    if (this.#options.intervalMs <= 0) {
      void this.checkNow();
      return;
    }
    const tick = () => {
      this.checkNow().finally(() => {
        if (this.#stopped) return;
        this.#timer = setTimeout(tick, this.#options.intervalMs);
        // Health checks alone must not keep a process alive; stop() clears the timer anyway.
        this.#timer.unref();
      });
    };
    this.#timer = setTimeout(tick, 0);
    this.#timer.unref();
  }

  /** One check now; callers that ask while one runs share it. */
  checkNow(): Promise<IpcHealth> {
    if (this.#running) return this.#running;
    const run = this.#options
      .check()
      .catch((error: unknown): IpcHealth => ({ status: "unhealthy", detail: `health check failed: ${String(error)}` }))
      .then((health) => {
        this.#running = null;
        if (!this.#stopped) this.#set(health);
        return health;
      });
    this.#running = run;
    return run;
  }

  /** Calls `listener` on every change; returns the function that stops it. */
  onChange(listener: HealthListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#listeners.clear();
  }

  #set(health: IpcHealth): void {
    const previous = this.#current;
    this.#current = health;
    if (same(previous, health)) return;
    this.#options.logger.info("LLM agent health changed", {
      from: previous.status,
      to: health.status,
      detail: health.detail,
    });
    for (const listener of this.#listeners) {
      try {
        listener(health, previous);
      } catch (error) {
        this.#options.logger.error("a health listener threw", { error });
      }
    }
  }
}
