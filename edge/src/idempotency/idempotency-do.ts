import { DurableObject } from "cloudflare:workers";
import { z } from "zod";

/** The answer a request with the key got, kept to answer its retries the same way. */
export const StoredAnswer = z.object({ status: z.number().int(), body: z.string() });
export type StoredAnswer = z.infer<typeof StoredAnswer>;

/**
 * What a request learns when it claims its key: it is the first (`new`: do the work under `id`),
 * a retry of the first (`replay`: the same `id`, and its answer once there is one), or a reuse of
 * the key with another request (`mismatch`: refused, 422).
 */
export type Claim =
  | { status: "new"; id: string }
  | { status: "replay"; id: string; answer: StoredAnswer | null }
  | { status: "mismatch" };

const Row = z.object({
  fingerprint: z.string(),
  id: z.string(),
  expires_at: z.number(),
  status: z.number().nullable(),
  body: z.string().nullable(),
  answer_by: z.number().nullable(),
});

/**
 * One `Idempotency-Key` of one API key on one route (the Worker names the object after all
 * three): which request first used it, the id of what that request started, and, for answers that
 * cannot be rebuilt from a pipeline, the answer itself. One object per key serialises requests with
 * that key without a lock of its own. It deletes itself when the key's time to live ends.
 */
export class IdempotencyDO extends DurableObject<Env> {
  /** Retries waiting for the first request's answer, woken when it is stored or given up. */
  readonly #waiting = new Set<(answer: StoredAnswer | null) => void>();

  /**
   * `answer_within_ms`: for work whose answer lives only in this key (an `/api/execute` run), how
   * long the first request can take at most. Past that with no answer, the first request is taken
   * to be lost (the edge went down under it, with its HTTP client) and the next request with the
   * key starts the work again instead of being told to wait until the key expires.
   */
  async claim(input: {
    fingerprint: string;
    candidate_id: string;
    ttl_ms: number;
    answer_within_ms?: number;
  }): Promise<Claim> {
    const now = Date.now();
    const row = this.#row();
    if (row && row.expires_at > now) {
      if (row.fingerprint !== input.fingerprint) return { status: "mismatch" };
      const answer = row.status === null || row.body === null ? null : { status: row.status, body: row.body };
      const lost = answer === null && row.answer_by !== null && row.answer_by < now;
      if (!lost) return { status: "replay", id: row.id, answer };
    }
    const expiresAt = now + input.ttl_ms;
    this.ctx.storage.sql.exec(
      "INSERT OR REPLACE INTO claim (one, fingerprint, id, expires_at, status, body, answer_by) VALUES (1, ?, ?, ?, NULL, NULL, ?)",
      input.fingerprint,
      input.candidate_id,
      expiresAt,
      input.answer_within_ms === undefined ? null : now + input.answer_within_ms,
    );
    await this.ctx.storage.setAlarm(expiresAt);
    return { status: "new", id: input.candidate_id };
  }

  /** The first request's answer: retries get it from now on. */
  async answer(id: string, answer: StoredAnswer): Promise<void> {
    const row = this.#row();
    if (!row || row.id !== id) return;
    this.ctx.storage.sql.exec("UPDATE claim SET status = ?, body = ? WHERE one = 1", answer.status, answer.body);
    this.#wake(answer);
  }

  /** The first request did nothing a retry should see (refused before any work): the key is free again. */
  async release(id: string): Promise<void> {
    const row = this.#row();
    if (!row || row.id !== id) return;
    this.ctx.storage.sql.exec("DELETE FROM claim");
    this.#wake(null);
  }

  /**
   * Waits up to `ms` for the first request's answer: the answer, or null when the key was
   * released or nothing came in time (the caller then claims again or answers 409).
   */
  async awaitAnswer(id: string, ms: number): Promise<StoredAnswer | null> {
    const row = this.#row();
    if (!row || row.id !== id) return null;
    if (row.status !== null && row.body !== null) return { status: row.status, body: row.body };
    return new Promise((resolve) => {
      const done = (answer: StoredAnswer | null) => {
        clearTimeout(timer);
        this.#waiting.delete(done);
        resolve(answer);
      };
      const timer = setTimeout(() => done(null), ms);
      this.#waiting.add(done);
    });
  }

  override async alarm(): Promise<void> {
    const row = this.#row();
    if (row && row.expires_at > Date.now()) {
      await this.ctx.storage.setAlarm(row.expires_at);
      return;
    }
    await this.ctx.storage.deleteAll();
  }

  #row(): z.infer<typeof Row> | null {
    // Made on each use, not once: the alarm's deleteAll drops the table with everything else.
    this.ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS claim (
      one INTEGER PRIMARY KEY CHECK (one = 1), fingerprint TEXT NOT NULL, id TEXT NOT NULL,
      expires_at INTEGER NOT NULL, status INTEGER, body TEXT, answer_by INTEGER)`);
    const found = this.#select()[0];
    return found === undefined ? null : Row.parse(found);
  }

  #select(): Record<string, SqlStorageValue>[] {
    const query = "SELECT fingerprint, id, expires_at, status, body, answer_by FROM claim";
    try {
      return this.ctx.storage.sql.exec(query).toArray();
    } catch {
      // A key claimed by an edge from before answer_by: the column is added, empty.
      this.ctx.storage.sql.exec("ALTER TABLE claim ADD COLUMN answer_by INTEGER");
      return this.ctx.storage.sql.exec(query).toArray();
    }
  }

  #wake(answer: StoredAnswer | null): void {
    for (const resolve of [...this.#waiting]) resolve(answer);
  }
}
