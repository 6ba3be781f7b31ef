import { EXIT } from "./exit-codes.ts";

export interface Interrupts {
  /** How often Ctrl-C was pressed so far. */
  readonly count: number;
  /** Stops listening (Ctrl-C then ends the process as usual). */
  dispose(): void;
}

/**
 * Ctrl-C (SIGINT): the first press calls `first` (cancel the pipeline, detach, stop following);
 * a second one exits at once with 130, whatever is still under way.
 */
export function onInterrupt(first: () => void, beforeExit: () => void = () => undefined): Interrupts {
  let count = 0;
  const handler = () => {
    count++;
    if (count === 1) {
      first();
      return;
    }
    beforeExit();
    process.exit(EXIT.interrupted);
  };
  process.on("SIGINT", handler);
  return {
    get count() {
      return count;
    },
    dispose: () => void process.off("SIGINT", handler),
  };
}
