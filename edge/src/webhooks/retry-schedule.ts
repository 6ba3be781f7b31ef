/**
 * When a webhook's next delivery attempt is due. The first is at once; retries wait longer and
 * longer (exponential backoff), in multiples of a base (ATOMIC_WEBHOOK_RETRY_BASE_MS, 5 s by
 * default): 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 3 h — eight attempts over about 4 h 43 min.
 * No attempt is made after `giveUpAt` (the pipeline's clean-up): the delivery fails then.
 */
const RETRY_MULTIPLES = [1, 6, 24, 120, 360, 720, 2160];

export const WEBHOOK_MAX_ATTEMPTS = RETRY_MULTIPLES.length + 1;

/** The time of attempt number `attemptsMade + 1` after an attempt at `lastAt`, or null: give up. */
export function nextAttemptAt(attemptsMade: number, lastAt: number, baseMs: number, giveUpAt: number): number | null {
  const multiple = RETRY_MULTIPLES[attemptsMade - 1];
  if (multiple === undefined) return null;
  const at = lastAt + multiple * baseMs;
  return at < giveUpAt ? at : null;
}

/** The whole period the retries span with this base, for the docs and the settings' description. */
export function retryPeriodMs(baseMs: number): number {
  return RETRY_MULTIPLES.reduce((sum, multiple) => sum + multiple * baseMs, 0);
}
