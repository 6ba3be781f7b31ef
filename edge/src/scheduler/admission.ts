import { Priority } from "../../../shared/src/index.ts";
import { NumberColumn, TextColumn } from "../storage/columns.ts";

/** Queue order: a lower rank runs first. */
export const PRIORITY_RANK: Record<Priority, number> = { high: 0, normal: 1, low: 2 };

export type EnqueueOutcome =
  | { status: "admitted"; position: number }
  | { status: "queued"; position: number }
  | { status: "full"; retry_after_s: number };

/**
 * A pool's admission: the running set (pipelines holding one of ATOMIC_MAX_CONCURRENT slots) and
 * the persisted priority queue of those waiting for one, first come first served within a priority.
 */
export class Admission {
  readonly #sql: SqlStorage;
  readonly #maxConcurrent: number;
  readonly #maxQueued: number;
  readonly #running = new Set<string>();
  #queued: number;

  constructor(sql: SqlStorage, limits: { maxConcurrent: number; maxQueued: number }) {
    this.#sql = sql;
    this.#maxConcurrent = limits.maxConcurrent;
    this.#maxQueued = limits.maxQueued;
    sql.exec(`CREATE TABLE IF NOT EXISTS queue (pipeline_id TEXT PRIMARY KEY, rank INTEGER NOT NULL, n INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS queue_order ON queue (rank, n);
      CREATE TABLE IF NOT EXISTS running (pipeline_id TEXT PRIMARY KEY, admitted_at INTEGER NOT NULL);`);
    for (const row of sql.exec("SELECT pipeline_id FROM running"))
      this.#running.add(TextColumn.parse(row["pipeline_id"]));
    this.#queued = NumberColumn.parse(sql.exec("SELECT COUNT(*) AS n FROM queue").one()["n"]);
  }

  get running(): number {
    return this.#running.size;
  }

  get queued(): number {
    return this.#queued;
  }

  isRunning(pipelineId: string): boolean {
    return this.#running.has(pipelineId);
  }

  /**
   * Admits a pipeline now, queues it behind those of its priority, or refuses it when the queue is
   * full (`retryAfterS` computes the hint for that answer).
   */
  enqueue(pipelineId: string, priority: Priority, retryAfterS: () => number): EnqueueOutcome {
    if (this.#queued === 0 && this.#running.size < this.#maxConcurrent) {
      this.#admit(pipelineId);
      return { status: "admitted", position: 0 };
    }
    if (this.#queued >= this.#maxQueued) return { status: "full", retry_after_s: retryAfterS() };
    const rank = PRIORITY_RANK[priority];
    const n = NumberColumn.parse(this.#sql.exec("SELECT COALESCE(MAX(n), 0) + 1 AS next FROM queue").one()["next"]);
    this.#sql.exec("INSERT OR IGNORE INTO queue (pipeline_id, rank, n) VALUES (?, ?, ?)", pipelineId, rank, n);
    this.#queued += 1;
    const ahead = NumberColumn.parse(
      this.#sql.exec("SELECT COUNT(*) AS n FROM queue WHERE rank < ? OR (rank = ? AND n < ?)", rank, rank, n).one()[
        "n"
      ],
    );
    return { status: "queued", position: ahead + 1 };
  }

  /** A pipeline ended: it leaves the running set, or the queue if it never ran. */
  remove(pipelineId: string): void {
    if (this.#running.delete(pipelineId)) {
      this.#sql.exec("DELETE FROM running WHERE pipeline_id = ?", pipelineId);
      return;
    }
    const removed = this.#sql.exec("DELETE FROM queue WHERE pipeline_id = ?", pipelineId).rowsWritten;
    this.#queued = Math.max(0, this.#queued - removed);
  }

  /** Admits queued pipelines while running slots are free, highest priority first; returns their ids. */
  pump(): string[] {
    const admitted: string[] = [];
    while (this.#running.size < this.#maxConcurrent && this.#queued > 0) {
      const next = this.#sql.exec("SELECT pipeline_id FROM queue ORDER BY rank, n LIMIT 1").toArray()[0];
      if (!next) {
        this.#queued = 0;
        break;
      }
      const id = TextColumn.parse(next["pipeline_id"]);
      this.#sql.exec("DELETE FROM queue WHERE pipeline_id = ?", id);
      this.#queued -= 1;
      this.#admit(id);
      admitted.push(id);
    }
    return admitted;
  }

  queuedByPriority(): Record<Priority, number> {
    const counts: Record<Priority, number> = { high: 0, normal: 0, low: 0 };
    for (const row of this.#sql.exec("SELECT rank, COUNT(*) AS n FROM queue GROUP BY rank")) {
      const rank = NumberColumn.parse(row["rank"]);
      const priority = Priority.options.find((p) => PRIORITY_RANK[p] === rank) ?? "low";
      counts[priority] += NumberColumn.parse(row["n"]);
    }
    return counts;
  }

  #admit(id: string): void {
    this.#running.add(id);
    this.#sql.exec("INSERT OR REPLACE INTO running (pipeline_id, admitted_at) VALUES (?, ?)", id, Date.now());
  }
}

/** How long a refused client should wait: the waves of pipelines ahead of it times the average latency. */
export function retryAfterSeconds(averageLatencyS: number, queued: number, maxConcurrent: number): number {
  const waves = Math.ceil((queued + 1) / maxConcurrent);
  return Math.max(1, Math.min(300, Math.ceil(averageLatencyS * waves)));
}
