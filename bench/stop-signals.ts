import { progress } from "./progress.ts";

const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/**
 * Ctrl-C (and SIGTERM, SIGHUP) for a run that starts processes: the first signal stops every
 * process the run started and exits 130; a second kills them at once.
 */
export class StopSignals {
  #stopping = false;
  readonly #cleanUp: () => Promise<void>;
  readonly #killNow: () => void;
  readonly #onSignal = (signal: NodeJS.Signals): void => this.#stop(signal);

  /** `cleanUp` stops the run's processes gracefully; `killNow` kills them at once. */
  constructor(cleanUp: () => Promise<void>, killNow: () => void) {
    this.#cleanUp = cleanUp;
    this.#killNow = killNow;
    for (const signal of SIGNALS) process.on(signal, this.#onSignal);
  }

  /** Whether a signal came: the run is being stopped. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /**
   * wrangler's dev server (miniflare) adds its own signal handlers, which exit the process at once:
   * the host-agents, the Python agents and the edge's temp state would be left behind. Only this
   * run's handler stays; it disposes of the edge itself (miniflare's exit hook still runs at exit).
   * Call it once the edge has started.
   */
  keepOnlyOurs(): void {
    for (const signal of SIGNALS) {
      for (const listener of process.listeners(signal)) {
        if (listener !== this.#onSignal) process.removeListener(signal, listener);
      }
    }
  }

  #stop(signal: NodeJS.Signals): void {
    if (this.#stopping) {
      this.#killNow();
      process.exit(130);
    }
    this.#stopping = true;
    progress(`${signal}: stopping every process this run started (again to kill them at once)`);
    this.#cleanUp()
      .catch((error: unknown) => console.error(error))
      .finally(() => process.exit(130));
  }
}
