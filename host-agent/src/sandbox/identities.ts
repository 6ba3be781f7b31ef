import { SANDBOX_UID, SANDBOX_UID_COUNT } from "./container-spec.ts";
import { SandboxError } from "./errors.ts";

/**
 * Gives every sandbox container alive at once a uid of its own: the smallest free one from
 * {@link SANDBOX_UID} up. Per-user kernel limits (inotify instances and watches, POSIX message
 * queue bytes, `RLIMIT_NPROC` accounting, ...) count per uid across the whole host, so with one
 * shared uid a run holding 128 inotify instances made a concurrent run fail with EMFILE. A uid is
 * taken when a container is created (warm or cold) and given back once it has been removed, so two
 * containers never hold the same uid at once; about (warm pool + runs at once) uids are in use,
 * plus those of containers still being removed. Every run keeps gid 10001, which owns nothing of
 * the host's.
 *
 * Only the {@link SANDBOX_UID_COUNT} uids the image names are handed out. When every one is held,
 * `take()` waits for the next to be given back (first come, first served) rather than hand out a
 * uid without a passwd entry or fail the run: the host then runs at most that many sandbox
 * containers at once, whatever `ATOMIC_THREADS` says (it counts jobs of every kind).
 */
export class UidSlots {
  readonly #first: number;
  readonly #count: number;
  readonly #inUse = new Set<number>();
  /** Takes waiting for a uid, oldest first; each is handed the next uid given back. */
  readonly #waiting: Array<(uid: number) => void> = [];

  constructor(first = SANDBOX_UID, count = SANDBOX_UID_COUNT) {
    this.#first = first;
    this.#count = count;
  }

  /**
   * The smallest uid no living container holds; when all are held, the first one given back.
   * Rejects with a `cancelled` {@link SandboxError} if `signal` aborts first.
   */
  take(signal?: AbortSignal): Promise<number> {
    if (signal?.aborted === true) return Promise.reject(cancelled());
    for (let uid = this.#first; uid < this.#first + this.#count; uid += 1) {
      if (this.#inUse.has(uid)) continue;
      this.#inUse.add(uid);
      return Promise.resolve(uid);
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#waiting.splice(this.#waiting.indexOf(handOver), 1);
        reject(cancelled());
      };
      const handOver = (uid: number) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(uid);
      };
      this.#waiting.push(handOver);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Gives `uid` back once its container is gone: to the oldest waiting take, if any. */
  release(uid: number): void {
    if (!this.#inUse.has(uid)) return;
    const next = this.#waiting.shift();
    if (next === undefined) this.#inUse.delete(uid);
    else next(uid);
  }

  /** Uids held right now. */
  get size(): number {
    return this.#inUse.size;
  }

  /** Whether every uid is held, so that a `take()` now would wait. */
  get full(): boolean {
    return this.#inUse.size >= this.#count;
  }
}

function cancelled(): SandboxError {
  return new SandboxError("cancelled", "the run was cancelled");
}
