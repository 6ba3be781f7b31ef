/** The first and the longest wait before a dropped feed is dialled again. */
const FIRST_MS = 1000;
const LONGEST_MS = 30_000;

/**
 * The wait before reconnection attempt `attempt` (0 for the first after a drop): doubling from
 * 1 s to 30 s, with up to a fifth taken off at random so many open dashboards do not redial an edge
 * that restarted all in the same second.
 */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(LONGEST_MS, FIRST_MS * 2 ** Math.max(0, attempt));
  return Math.round(base * (1 - 0.2 * random()));
}
