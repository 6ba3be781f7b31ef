/**
 * How long a repeated stop signal counts as the same request. One Ctrl-C can arrive twice within
 * a millisecond or two: the terminal signals its whole foreground process group, and a parent in
 * that group passes the signal on as well (npm does for `npm run agent` where its script shell
 * execs the command; a supervisor may do the same). A person who means "stop now" presses again
 * later than this.
 */
export const SAME_STOP_WINDOW_MS = 1_000;

/** What a stop signal asks for: finish the running work, stop at once, or nothing new. */
export type StopAction = "drain" | "now" | "repeat";

/**
 * The stop signals one process receives, in order: the first drains; another within
 * {@link SAME_STOP_WINDOW_MS} of it is the same request (`repeat`); a later one stops now; what
 * comes after that changes nothing (`repeat`). Times are any monotonic clock in milliseconds.
 */
export class StopSignals {
  readonly #windowMs: number;
  #firstAt: number | undefined;
  #now = false;

  constructor(windowMs = SAME_STOP_WINDOW_MS) {
    this.#windowMs = windowMs;
  }

  /** The action of a stop signal received at `at`. */
  next(at: number): StopAction {
    if (this.#firstAt === undefined) {
      this.#firstAt = at;
      return "drain";
    }
    if (this.#now || at - this.#firstAt < this.#windowMs) return "repeat";
    this.#now = true;
    return "now";
  }
}
