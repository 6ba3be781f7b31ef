/** Objects that runs are spread over, per location. */
const SHARDS = 16;

/**
 * The object a new run goes to: one of a few per location (`colo`, when the runtime says where
 * it runs). Runs are short and keep nothing, so they share long-lived objects instead of each
 * creating one: a new SQLite-backed object costs its database files first (~7 ms a request in
 * the local runtime, docs/BENCHMARKS.md).
 */
export function executionShard(colo: string | undefined): string {
  return `${colo ?? "any"}-${Math.floor(Math.random() * SHARDS)}`;
}
