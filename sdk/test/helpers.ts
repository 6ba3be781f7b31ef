/** Waits until `check()` holds, polling every 20 ms, or fails after `ms`. */
export async function waitUntil(check: () => boolean, ms = 10_000, what = "the condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Drains an async iterable into `into` (which a test can watch while it fills). */
export async function collect<T>(events: AsyncIterable<T>, into: T[] = []): Promise<T[]> {
  for await (const event of events) into.push(event);
  return into;
}
