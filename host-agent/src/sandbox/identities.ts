import { SANDBOX_UID } from "./container-spec.ts";

/**
 * Gives every sandbox container alive at once a uid of its own: the smallest free one from
 * {@link SANDBOX_UID} up. Per-user kernel limits (inotify instances and watches, POSIX message
 * queue bytes, `RLIMIT_NPROC` accounting, ...) count per uid across the whole host, so with one
 * shared uid a run holding 128 inotify instances made a concurrent run fail with EMFILE. A uid is
 * taken when a container is created (warm or cold) and given back once it has been removed, so two
 * containers never hold the same uid at once; at most (warm pool + runs at once) uids are in use.
 * Every run keeps gid 10001, which owns nothing of the host's.
 */
export class UidSlots {
  readonly #inUse = new Set<number>();

  /** The smallest uid no living container holds. */
  take(): number {
    let uid = SANDBOX_UID;
    while (this.#inUse.has(uid)) uid += 1;
    this.#inUse.add(uid);
    return uid;
  }

  /** Gives `uid` back once its container is gone. */
  release(uid: number): void {
    this.#inUse.delete(uid);
  }

  /** Uids held right now. */
  get size(): number {
    return this.#inUse.size;
  }
}
