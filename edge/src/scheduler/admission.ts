import { z } from "zod";
import { Priority } from "../../../shared/src/index.ts";
import { NumberColumn, TextColumn } from "../storage/columns.ts";
import { expectedPosition, nextTurn, OPEN_TENANT, underCap, type FairState, type TenantQueue } from "./fair-order.ts";

/** Queue order: a lower rank runs first. */
export const PRIORITY_RANK: Record<Priority, number> = { high: 0, normal: 1, low: 2 };

export type EnqueueOutcome =
  | { status: "admitted"; position: number }
  | { status: "queued"; position: number }
  | { status: "full"; retry_after_s: number };

/** One tenant's pipelines in a pool now (`GET /api/status`'s `tenants`). */
export interface TenantCount {
  /** The API key's id (never the key); null for pipelines made while the edge was open. */
  owner: string | null;
  running: number;
  queued: number;
}

const TenantRow = z.object({ rank: z.number(), owner: z.string(), count: z.number() });

/**
 * A pool's admission: the running set (pipelines holding one of ATOMIC_MAX_CONCURRENT slots) and
 * the persisted priority queue of those waiting for one. Within a priority, tenants (API keys)
 * take turns and none runs more than ATOMIC_MAX_RUNNING_PER_KEY at once (`fair-order.ts`); each
 * tenant's own pipelines go first come first served.
 */
export class Admission {
  readonly #sql: SqlStorage;
  readonly #maxConcurrent: number;
  readonly #maxQueued: number;
  readonly #capPerTenant: number;
  /** Running pipelines and their tenants. */
  readonly #running = new Map<string, string>();
  readonly #runningByTenant = new Map<string, number>();
  /** The tenant served last at each rank: round-robin turns go on from there. */
  readonly #lastServed = new Map<number, string>();
  #queued: number;

  constructor(sql: SqlStorage, limits: { maxConcurrent: number; maxQueued: number; maxRunningPerKey: number }) {
    this.#sql = sql;
    this.#maxConcurrent = limits.maxConcurrent;
    this.#maxQueued = limits.maxQueued;
    this.#capPerTenant = limits.maxRunningPerKey;
    sql.exec(`CREATE TABLE IF NOT EXISTS queue (pipeline_id TEXT PRIMARY KEY, rank INTEGER NOT NULL, n INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS queue_order ON queue (rank, n);
      CREATE TABLE IF NOT EXISTS running (pipeline_id TEXT PRIMARY KEY, admitted_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS turns (rank INTEGER PRIMARY KEY, owner TEXT NOT NULL);`);
    // Queues saved before tenants took turns have no owner column: their rows are the open tenant's.
    for (const table of ["queue", "running"]) {
      try {
        sql.exec(`SELECT owner FROM ${table} LIMIT 0`);
      } catch {
        sql.exec(`ALTER TABLE ${table} ADD COLUMN owner TEXT NOT NULL DEFAULT ''`);
      }
    }
    sql.exec("CREATE INDEX IF NOT EXISTS queue_tenant ON queue (rank, owner, n)");
    for (const row of sql.exec("SELECT pipeline_id, owner FROM running"))
      this.#run(TextColumn.parse(row["pipeline_id"]), TextColumn.parse(row["owner"]));
    for (const row of sql.exec("SELECT rank, owner FROM turns"))
      this.#lastServed.set(NumberColumn.parse(row["rank"]), TextColumn.parse(row["owner"]));
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
   * Admits a pipeline now (a slot is free and its tenant is under its cap), queues it, or refuses
   * it when the queue is full (`retryAfterS` computes the hint for that answer). A queued pipeline
   * may still be admitted by the `pump()` that follows (when the queue holds only pipelines of
   * tenants at their cap).
   */
  enqueue(pipelineId: string, priority: Priority, owner: string | null, retryAfterS: () => number): EnqueueOutcome {
    const tenant = owner ?? OPEN_TENANT;
    const fair = this.#fairState();
    const rank = PRIORITY_RANK[priority];
    if (this.#running.size < this.#maxConcurrent && underCap(tenant, fair) && this.#queued === 0) {
      this.#served(rank, tenant);
      this.#admit(pipelineId, tenant);
      return { status: "admitted", position: 0 };
    }
    if (this.#queued >= this.#maxQueued) return { status: "full", retry_after_s: retryAfterS() };
    const n = NumberColumn.parse(this.#sql.exec("SELECT COALESCE(MAX(n), 0) + 1 AS next FROM queue").one()["next"]);
    this.#sql.exec(
      "INSERT OR IGNORE INTO queue (pipeline_id, rank, n, owner) VALUES (?, ?, ?, ?)",
      pipelineId,
      rank,
      n,
      tenant,
    );
    this.#queued += 1;
    return { status: "queued", position: expectedPosition(this.#tenantQueues(), rank, tenant) };
  }

  /** A pipeline ended: it leaves the running set, or the queue if it never ran. */
  remove(pipelineId: string): void {
    const tenant = this.#running.get(pipelineId);
    if (tenant !== undefined) {
      this.#running.delete(pipelineId);
      const left = (this.#runningByTenant.get(tenant) ?? 1) - 1;
      if (left > 0) this.#runningByTenant.set(tenant, left);
      else this.#runningByTenant.delete(tenant);
      this.#sql.exec("DELETE FROM running WHERE pipeline_id = ?", pipelineId);
      return;
    }
    const removed = this.#sql.exec("DELETE FROM queue WHERE pipeline_id = ?", pipelineId).rowsWritten;
    this.#queued = Math.max(0, this.#queued - removed);
  }

  /**
   * Admits queued pipelines while running slots are free: highest priority first, tenants taking
   * turns within a priority, none past its cap; returns their ids.
   */
  pump(): string[] {
    const admitted: string[] = [];
    if (this.#running.size >= this.#maxConcurrent || this.#queued === 0) return admitted;
    const queues = this.#tenantQueues();
    while (this.#running.size < this.#maxConcurrent && this.#queued > 0) {
      const turn = nextTurn(queues, this.#fairState());
      if (!turn) break;
      const next = this.#sql
        .exec("SELECT pipeline_id FROM queue WHERE rank = ? AND owner = ? ORDER BY n LIMIT 1", turn.rank, turn.owner)
        .toArray()[0];
      const queue = queues.find((q) => q.rank === turn.rank && q.owner === turn.owner)!;
      if (!next) {
        queue.count = 0;
        continue;
      }
      queue.count -= 1;
      const id = TextColumn.parse(next["pipeline_id"]);
      this.#sql.exec("DELETE FROM queue WHERE pipeline_id = ?", id);
      this.#queued -= 1;
      this.#served(turn.rank, turn.owner);
      this.#admit(id, turn.owner);
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

  /** Every tenant with a pipeline running or queued, by owner id. */
  tenants(): TenantCount[] {
    const counts = new Map<string, TenantCount>();
    const of = (tenant: string) => {
      let count = counts.get(tenant);
      if (!count)
        counts.set(tenant, (count = { owner: tenant === OPEN_TENANT ? null : tenant, running: 0, queued: 0 }));
      return count;
    };
    for (const [tenant, running] of this.#runningByTenant) of(tenant).running = running;
    if (this.#queued > 0) for (const q of this.#tenantQueues()) of(q.owner).queued += q.count;
    return [...counts.values()].sort((a, b) => (a.owner ?? "").localeCompare(b.owner ?? ""));
  }

  #tenantQueues(): TenantQueue[] {
    return this.#sql
      .exec("SELECT rank, owner, COUNT(*) AS count FROM queue GROUP BY rank, owner")
      .toArray()
      .map((row) => TenantRow.parse(row));
  }

  /** A tenant took a slot at `rank`: the next turn there starts after it (written only when it changes). */
  #served(rank: number, tenant: string): void {
    if (this.#lastServed.get(rank) === tenant) return;
    this.#lastServed.set(rank, tenant);
    this.#sql.exec("INSERT OR REPLACE INTO turns (rank, owner) VALUES (?, ?)", rank, tenant);
  }

  #fairState(): FairState {
    return { running: this.#runningByTenant, capPerTenant: this.#capPerTenant, lastServed: this.#lastServed };
  }

  #admit(id: string, tenant: string): void {
    this.#run(id, tenant);
    this.#sql.exec(
      "INSERT OR REPLACE INTO running (pipeline_id, admitted_at, owner) VALUES (?, ?, ?)",
      id,
      Date.now(),
      tenant,
    );
  }

  #run(id: string, tenant: string): void {
    if (this.#running.has(id)) return;
    this.#running.set(id, tenant);
    this.#runningByTenant.set(tenant, (this.#runningByTenant.get(tenant) ?? 0) + 1);
  }
}

/** How long a refused client should wait: the waves of pipelines ahead of it times the average latency. */
export function retryAfterSeconds(averageLatencyS: number, queued: number, maxConcurrent: number): number {
  const waves = Math.ceil((queued + 1) / maxConcurrent);
  return Math.max(1, Math.min(300, Math.ceil(averageLatencyS * waves)));
}
