import type { Logger } from "../log.ts";
import type { LaunchedContainer } from "./container-launch.ts";

/** What the pool needs from its owner: how to make a container and how to get rid of one. */
export interface WarmPoolOptions {
  /** How many started containers to keep ready. */
  size: number;
  /** Creates, attaches and starts one container with the pool's (the host's default) limits. */
  launch: () => Promise<LaunchedContainer>;
  /** Force-removes a container; the pool calls it for dead and leftover containers. */
  remove: (launched: LaunchedContainer) => Promise<void>;
  logger: Logger;
  /**
   * How long after a `take()` the pool starts a replacement if the run has not ended by then
   * (default 250 ms). Starting a container costs a few hundred ms of CPU in the engine and the
   * kernel; doing it while a short run executes slows that run down noticeably on a small
   * machine, so the pool prefers to refill when the run ends (`released()`).
   */
  refillDelayMs?: number;
}

const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 30_000;

/**
 * Pre-started, single-use sandbox containers. `take()` hands a ready container to exactly one
 * run and the pool never sees it again (the run kills and removes it); the pool then refills in
 * the background, when that run ends or after `refillDelayMs`, whichever comes first. A container that dies while idle (engine restart, external `docker rm`) is
 * dropped and replaced. Launch failures (engine down, image missing) are retried with backoff.
 */
export class WarmPool {
  readonly #options: WarmPoolOptions;
  readonly #ready: LaunchedContainer[] = [];
  readonly #launching = new Set<Promise<void>>();
  // Counted apart from `#launching` and updated in the same tick a launch settles, so a `take()`
  // that runs right after the pool fills never sees a finished launch as still starting.
  #starting = 0;
  readonly #removing = new Set<Promise<void>>();
  #waiters: Array<() => void> = [];
  #failures = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #refillTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: WarmPoolOptions) {
    this.#options = options;
  }

  /** Starts filling the pool. */
  start(): void {
    this.#fill();
  }

  /** Containers ready to take right now. */
  get readyCount(): number {
    return this.#ready.length;
  }

  /** A ready container for one run, or undefined when the pool is empty (the caller starts one cold). */
  take(): LaunchedContainer | undefined {
    let taken: LaunchedContainer | undefined;
    while (taken === undefined && this.#ready.length > 0) {
      const candidate = this.#ready.shift();
      if (candidate !== undefined && !candidate.isEnded()) taken = candidate;
      else if (candidate !== undefined) this.#discard(candidate);
    }
    if (taken === undefined) this.#fill();
    else if (this.#refillTimer === undefined && !this.#closed) {
      this.#refillTimer = setTimeout(() => {
        this.#refillTimer = undefined;
        this.#fill();
      }, this.#options.refillDelayMs ?? 250);
      this.#refillTimer.unref();
    }
    return taken;
  }

  /** Tells the pool that the run of a container it handed out has ended: refill now. */
  released(): void {
    clearTimeout(this.#refillTimer);
    this.#refillTimer = undefined;
    this.#fill();
  }

  /** Resolves once the pool holds `size` ready containers (or is closed). */
  whenFull(): Promise<void> {
    if (this.#closed || this.#ready.length >= this.#options.size) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Stops refilling and removes every container the pool holds or is still starting. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#refillTimer);
    this.#wake();
    // Launches in flight see `#closed` when they finish and remove their container themselves.
    await Promise.allSettled([...this.#launching]);
    for (const launched of this.#ready.splice(0)) this.#discard(launched);
    await Promise.allSettled([...this.#removing]);
  }

  #fill(): void {
    if (this.#closed || this.#retryTimer !== undefined) return;
    while (this.#ready.length + this.#starting < this.#options.size) {
      this.#starting += 1;
      const launching: Promise<void> = this.#launchOne().finally(() => {
        this.#launching.delete(launching);
      });
      this.#launching.add(launching);
    }
  }

  async #launchOne(): Promise<void> {
    let launched: LaunchedContainer;
    try {
      launched = await this.#options.launch();
    } catch (error) {
      this.#starting -= 1;
      this.#failures += 1;
      const delayMs = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (this.#failures - 1));
      this.#options.logger.warn("sandbox warm pool could not start a container", { error, retry_in_ms: delayMs });
      if (!this.#closed && this.#retryTimer === undefined) {
        this.#retryTimer = setTimeout(() => {
          this.#retryTimer = undefined;
          this.#fill();
        }, delayMs);
        // A pool waiting to retry must not keep the process alive on its own.
        this.#retryTimer.unref();
      }
      return;
    }
    this.#starting -= 1;
    this.#failures = 0;
    if (this.#closed) {
      this.#discard(launched);
      return;
    }
    this.#ready.push(launched);
    void launched.ended.then(() => {
      const index = this.#ready.indexOf(launched);
      if (index === -1) return; // taken by a run, which owns its end
      this.#ready.splice(index, 1);
      this.#options.logger.warn("sandbox warm container died while idle", { container: launched.id.slice(0, 12) });
      this.#discard(launched);
      this.#fill();
    });
    if (this.#ready.length >= this.#options.size) this.#wake();
  }

  #discard(launched: LaunchedContainer): void {
    launched.stream.destroy();
    const removing: Promise<void> = this.#options
      .remove(launched)
      .catch((error: unknown) => {
        this.#options.logger.error("sandbox warm container could not be removed (the next start-up sweep will)", {
          container: launched.id.slice(0, 12),
          error,
        });
      })
      .finally(() => {
        this.#removing.delete(removing);
      });
    this.#removing.add(removing);
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}
