/** Callers waiting for a pipeline to end (`POST /api/generate` without `async`), each with its own time limit. */
export class FinishWaiters {
  readonly #waiters = new Set<() => void>();

  /** Resolves when `releaseAll` is called, or after `timeoutMs`, whichever comes first. */
  wait(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#waiters.add(done);
    });
  }

  releaseAll(): void {
    for (const done of [...this.#waiters]) done();
  }
}
