/**
 * Capped exponential backoff with full jitter: the n-th wait is uniform in
 * [0, min(cap, base · 2^n)], which spreads a fleet of agents that lost the edge at the same
 * moment. A link that stayed up for `stableMs` starts again from the base.
 */
export class Backoff {
  #attempt = 0;
  #connectedAt: number | null = null;
  readonly baseMs: number;
  readonly capMs: number;
  readonly stableMs: number;
  readonly #random: () => number;

  constructor(options: { baseMs?: number; capMs?: number; stableMs?: number; random?: () => number } = {}) {
    this.baseMs = options.baseMs ?? 250;
    this.capMs = options.capMs ?? 30_000;
    this.stableMs = options.stableMs ?? 30_000;
    this.#random = options.random ?? Math.random;
  }

  get attempt(): number {
    return this.#attempt;
  }

  /** The wait before the next try; each call counts one more failure. */
  next(): number {
    const ceiling = Math.min(this.capMs, this.baseMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt += 1;
    return Math.floor(this.#random() * ceiling);
  }

  connected(now = Date.now()): void {
    this.#connectedAt = now;
  }

  /** The link dropped: forget the failures only if it had been up long enough to count as stable. */
  disconnected(now = Date.now()): void {
    if (this.#connectedAt !== null && now - this.#connectedAt >= this.stableMs) this.#attempt = 0;
    this.#connectedAt = null;
  }
}
