import { DurableObject } from "cloudflare:workers";

/**
 * One API key's request budget: a token bucket holding `perMinute` tokens that refills
 * continuously. Named by a hash of the key, so the key itself is never stored or logged. The
 * state lives in memory: losing it on eviction only ever forgives, never blocks.
 */
export class RateLimiterDO extends DurableObject<Env> {
  #tokens = -1;
  #updatedAt = 0;

  /** Takes one token; says how long to wait when there is none. */
  async take(perMinute: number): Promise<{ allowed: boolean; retry_after_s: number; remaining: number }> {
    const now = Date.now();
    if (this.#tokens < 0) {
      this.#tokens = perMinute;
      this.#updatedAt = now;
    }
    const refill = ((now - this.#updatedAt) / 60_000) * perMinute;
    this.#tokens = Math.min(perMinute, this.#tokens + refill);
    this.#updatedAt = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return { allowed: true, retry_after_s: 0, remaining: Math.floor(this.#tokens) };
    }
    const waitMs = ((1 - this.#tokens) / perMinute) * 60_000;
    return { allowed: false, retry_after_s: Math.max(1, Math.ceil(waitMs / 1000)), remaining: 0 };
  }
}
