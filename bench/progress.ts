/** Progress lines while the benchmark runs, each stamped with the seconds since it started. */
const started = performance.now();

export function progress(message: string): void {
  const seconds = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
  process.stdout.write(`[${seconds}s] ${message}\n`);
}

/** Milliseconds, for progress lines. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  return value < 100 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
}
