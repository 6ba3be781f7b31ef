import { z } from "zod";
import { PipelineState, Priority } from "../../../shared/src/index.ts";

/** What the index keeps of a pipeline: what it was when queued, and how it ended once it has. */
const IndexRow = z.object({
  id: z.string(),
  owner: z.string().nullable(),
  created_at: z.number(),
  priority: Priority,
  prompt: z.string(),
  final_state: PipelineState.nullable(),
  finished_at: z.number().nullable(),
  verified: z.number(),
  verification: z.enum(["passed", "failed", "skipped"]).nullable(),
});
export type IndexRow = z.infer<typeof IndexRow>;

/** Where a page starts: after the row with this creation time and id (newest first). */
const Cursor = z.object({ t: z.number().int(), id: z.string().max(64) });
type Cursor = z.infer<typeof Cursor>;

export function encodeCursor(row: Pick<IndexRow, "created_at" | "id">): string {
  return btoa(JSON.stringify({ t: row.created_at, id: row.id }))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}

/** The cursor a page handed out, or null when `raw` is not one. */
export function decodeCursor(raw: string): Cursor | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(raw)) return null;
  try {
    const json: unknown = JSON.parse(atob(raw.replaceAll("-", "+").replaceAll("_", "/")));
    const parsed = Cursor.safeParse(json);
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export interface IndexQuery {
  /** Only this owner's pipelines; undefined: everyone's (an operator). */
  owner?: string | null;
  /** Final states to keep; `active` keeps the pipelines that have not ended. */
  finalStates: PipelineState[];
  active: boolean;
  since: number | null;
  until: number | null;
  limit: number;
  cursor: Cursor | null;
}

/** The first line of a prompt, as a list shows it: at most 200 characters, no half character. */
export function promptLine(prompt: string): string {
  const line = prompt.trim().split("\n", 1)[0] ?? "";
  return line.length <= 200 ? line : line.slice(0, 200).replace(/[\uD800-\uDBFF]$/, "");
}

/**
 * A pool's recent pipelines, for `GET /api/pipelines`: one row written when a pipeline is queued
 * and updated when it ends, in the same calls that already reach the scheduler (no round trip of
 * its own), kept until the pipeline's own retention ends.
 */
export class PipelineIndex {
  readonly #sql: SqlStorage;

  /**
   * Every finish drops expired rows and every key's list filters by owner: both have an index, so
   * neither scans a day of rows on the path each pipeline takes.
   */
  constructor(sql: SqlStorage) {
    this.#sql = sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS pipeline_index (
      id TEXT PRIMARY KEY, owner TEXT, created_at INTEGER NOT NULL, priority TEXT NOT NULL, prompt TEXT NOT NULL,
      final_state TEXT, finished_at INTEGER, verified INTEGER NOT NULL DEFAULT 0, verification TEXT, expires_at INTEGER);
      CREATE INDEX IF NOT EXISTS pipeline_index_created ON pipeline_index (created_at DESC, id DESC);
      CREATE INDEX IF NOT EXISTS pipeline_index_owner ON pipeline_index (owner, created_at DESC, id DESC);
      CREATE INDEX IF NOT EXISTS pipeline_index_expires ON pipeline_index (expires_at) WHERE expires_at IS NOT NULL;`);
  }

  queued(row: { id: string; owner: string | null; created_at: number; priority: Priority; prompt: string }): void {
    this.#sql.exec(
      "INSERT OR IGNORE INTO pipeline_index (id, owner, created_at, priority, prompt) VALUES (?, ?, ?, ?, ?)",
      row.id,
      row.owner,
      row.created_at,
      row.priority,
      promptLine(row.prompt),
    );
  }

  /** The pipeline ended; its row goes when the pipeline does (`expiresAt`). Expired rows are dropped here too. */
  finished(
    id: string,
    end: { state: PipelineState; finished_at: number; verified: boolean; verification: IndexRow["verification"] },
    expiresAt: number,
  ): void {
    this.#sql.exec(
      "UPDATE pipeline_index SET final_state = ?, finished_at = ?, verified = ?, verification = ?, expires_at = ? WHERE id = ?",
      end.state,
      end.finished_at,
      end.verified ? 1 : 0,
      end.verification,
      expiresAt,
      id,
    );
    this.#sql.exec(
      "DELETE FROM pipeline_index WHERE id IN (SELECT id FROM pipeline_index WHERE expires_at < ? LIMIT 100)",
      end.finished_at,
    );
  }

  /** Whose pipeline `id` is (null: an open edge's); null too when the index does not hold it. */
  owner(id: string): string | null {
    const row = this.#sql.exec("SELECT owner FROM pipeline_index WHERE id = ?", id).toArray()[0];
    const owner = row?.["owner"];
    return typeof owner === "string" ? owner : null;
  }

  /** Rows newest first, after the cursor, one more than `limit` when more follow. */
  list(query: IndexQuery, now: number): IndexRow[] {
    const where: string[] = ["(expires_at IS NULL OR expires_at > ?)"];
    const args: Array<string | number | null> = [now];
    if (query.owner !== undefined) {
      where.push(query.owner === null ? "owner IS NULL" : "owner = ?");
      if (query.owner !== null) args.push(query.owner);
    }
    const states: string[] = [];
    if (query.finalStates.length > 0) {
      states.push(`final_state IN (${query.finalStates.map(() => "?").join(", ")})`);
      args.push(...query.finalStates);
    }
    if (query.active) states.push("final_state IS NULL");
    if (states.length > 0) where.push(`(${states.join(" OR ")})`);
    if (query.since !== null) {
      where.push("created_at >= ?");
      args.push(query.since);
    }
    if (query.until !== null) {
      where.push("created_at < ?");
      args.push(query.until);
    }
    if (query.cursor !== null) {
      where.push("(created_at < ? OR (created_at = ? AND id < ?))");
      args.push(query.cursor.t, query.cursor.t, query.cursor.id);
    }
    const rows = this.#sql.exec(
      `SELECT id, owner, created_at, priority, prompt, final_state, finished_at, verified, verification
       FROM pipeline_index WHERE ${where.join(" AND ")} ORDER BY created_at DESC, id DESC LIMIT ?`,
      ...args,
      query.limit + 1,
    );
    return rows.toArray().map((row) => IndexRow.parse(row));
  }
}
