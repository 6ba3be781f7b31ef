import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import type { AgentHealth, JobKind, Labels, Priority, StageName } from "../../../shared/src/index.ts";
import {
  AgentHealth as AgentHealthSchema,
  JobKind as JobKindSchema,
  Labels as LabelsSchema,
} from "../../../shared/src/index.ts";
import { readConfig, type EdgeConfig } from "../config.ts";
import { NumberColumn, TextColumn } from "../storage/columns.ts";
import { createEdgeLogger, type EdgeLogger } from "../log.ts";
import { emptyHistogram, HistogramState, observe } from "../metrics/histogram.ts";
import type { MetricsSnapshot } from "../metrics/snapshot.ts";
import type { AgentInfo, EnqueueOutcome, JobRef, JobSpec, PlaceOutcome } from "./jobs.ts";
import { PRIORITY_RANK } from "./jobs.ts";
import { chooseAgent } from "./placement.ts";
import { jobOwner } from "../agents/owners.ts";

const AgentRow = z.object({
  agent_id: z.string(),
  labels: LabelsSchema,
  capacity: z.number(),
  kinds: z.array(JobKindSchema),
  health: AgentHealthSchema,
  connected: z.boolean(),
  draining: z.boolean(),
  running: z.number(),
  connected_at: z.number(),
});

const PlacedRow = z.object({ job_id: z.string(), attempt: z.number(), agent_id: z.string() });
const PendingRow = z.object({ body: z.string(), wait_until: z.number() });
const JobSpecSchema = z.object({
  job_id: z.string(),
  attempt: z.number(),
  owner: z.object({ kind: z.enum(["pipeline", "execution"]), id: z.string() }),
  pipeline_id: z.string().nullable(),
  kind: JobKindSchema,
  payload: z.unknown(),
  labels: LabelsSchema,
  priority: z.enum(["low", "normal", "high"]),
  deadline_ms: z.number(),
  mode: z.enum(["wait", "if-available"]),
  wait_ms: z.number(),
});

const COUNTERS = [
  "total_requests",
  "successful_requests",
  "failed_requests",
  "cancelled_requests",
  "rejected_requests",
] as const;
type Counter = (typeof COUNTERS)[number];
const CounterName = z.enum(COUNTERS);

export interface FinishedPipeline {
  pipeline_id: string;
  state: "COMPLETED" | "FAILED" | "CANCELLED";
  latency_ms: number;
  queue_ms: number;
  admitted: boolean;
  stages: Array<{ stage: StageName; duration_ms: number }>;
}

export interface AgentUp {
  agent_id: string;
  labels: Labels;
  capacity: number;
  kinds: JobKind[];
  health: AgentHealth;
  /** Jobs it still runs from before (kept across a reconnect). */
  jobs: Array<{ job_id: string; attempt: number }>;
}

/**
 * One pool's scheduler (DESIGN §3): the persisted priority queue of pipelines waiting for a
 * running slot, the registry of the pool's host-agents, job placement on the least-loaded one,
 * and the counters and histograms behind the metrics routes. Control traffic only: tokens never
 * pass through here, so its work per pipeline stays a handful of small writes.
 */
export class SchedulerDO extends DurableObject<Env> {
  #sql: SqlStorage;
  #config: EdgeConfig;
  #log: EdgeLogger;
  #agents = new Map<string, AgentInfo>();
  #running = new Set<string>();
  #queued = 0;
  #counters: Record<Counter, number> = {
    total_requests: 0,
    successful_requests: 0,
    failed_requests: 0,
    cancelled_requests: 0,
    rejected_requests: 0,
  };
  #histograms = new Map<string, HistogramState>();
  #pendingJobs = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#config = readConfig(env);
    this.#log = createEdgeLogger(this.#config.ATOMIC_LOG_LEVEL, { component: "scheduler" });
    ctx.blockConcurrencyWhile(async () => {
      const sql = this.#sql;
      sql.exec(`CREATE TABLE IF NOT EXISTS queue (pipeline_id TEXT PRIMARY KEY, rank INTEGER NOT NULL, n INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS queue_order ON queue (rank, n);
        CREATE TABLE IF NOT EXISTS running (pipeline_id TEXT PRIMARY KEY, admitted_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS agents (agent_id TEXT PRIMARY KEY, body TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS placed (job_id TEXT NOT NULL, attempt INTEGER NOT NULL, agent_id TEXT NOT NULL, PRIMARY KEY (job_id, attempt));
        CREATE TABLE IF NOT EXISTS pending (job_id TEXT NOT NULL, attempt INTEGER NOT NULL, rank INTEGER NOT NULL, n INTEGER NOT NULL, wait_until INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (job_id, attempt));
        CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS histograms (name TEXT PRIMARY KEY, body TEXT NOT NULL);`);
      for (const row of sql.exec("SELECT body FROM agents")) {
        const agent = AgentRow.safeParse(JSON.parse(TextColumn.parse(row["body"])));
        if (agent.success) this.#agents.set(agent.data.agent_id, agent.data);
      }
      for (const row of sql.exec("SELECT pipeline_id FROM running"))
        this.#running.add(TextColumn.parse(row["pipeline_id"]));
      this.#queued = NumberColumn.parse(sql.exec("SELECT COUNT(*) AS n FROM queue").one()["n"]);
      this.#pendingJobs = NumberColumn.parse(sql.exec("SELECT COUNT(*) AS n FROM pending").one()["n"]);
      for (const row of sql.exec("SELECT name, value FROM counters")) {
        const name = CounterName.safeParse(row["name"]);
        if (name.success) this.#counters[name.data] = NumberColumn.parse(row["value"]);
      }
      for (const row of sql.exec("SELECT name, body FROM histograms")) {
        const state = HistogramState.safeParse(JSON.parse(TextColumn.parse(row["body"])));
        if (state.success) this.#histograms.set(TextColumn.parse(row["name"]), state.data);
      }
    });
  }

  // ---------------------------------------------------------------- pipelines

  /** Admits a pipeline now, queues it, or refuses it when the queue is full. */
  async enqueue(input: { pipeline_id: string; priority: Priority }): Promise<EnqueueOutcome> {
    if (this.#running.has(input.pipeline_id)) return { status: "admitted", position: 0 };
    if (this.#queued === 0 && this.#running.size < this.#config.ATOMIC_MAX_CONCURRENT) {
      this.#count("total_requests");
      this.#admit(input.pipeline_id);
      return { status: "admitted", position: 0 };
    }
    if (this.#queued >= this.#config.ATOMIC_MAX_QUEUE_SIZE) {
      this.#count("rejected_requests");
      return { status: "full", retry_after_s: this.#retryAfterSeconds() };
    }
    this.#count("total_requests");
    const rank = PRIORITY_RANK[input.priority];
    const n = this.#nextN("queue");
    this.#sql.exec("INSERT OR IGNORE INTO queue (pipeline_id, rank, n) VALUES (?, ?, ?)", input.pipeline_id, rank, n);
    this.#queued += 1;
    const ahead = NumberColumn.parse(
      this.#sql.exec("SELECT COUNT(*) AS n FROM queue WHERE rank < ? OR (rank = ? AND n < ?)", rank, rank, n).one()[
        "n"
      ],
    );
    return { status: "queued", position: ahead + 1 };
  }

  /** A pipeline ended; `release` is its last job, whose result it stored (its slot is free). */
  async pipelineFinished(finished: FinishedPipeline, release?: JobRef): Promise<void> {
    if (release) this.#release(release.job_id, release.attempt);
    const wasRunning = this.#running.delete(finished.pipeline_id);
    if (wasRunning) this.#sql.exec("DELETE FROM running WHERE pipeline_id = ?", finished.pipeline_id);
    else {
      const removed = this.#sql.exec("DELETE FROM queue WHERE pipeline_id = ?", finished.pipeline_id).rowsWritten;
      this.#queued = Math.max(0, this.#queued - removed);
    }
    this.#count(
      finished.state === "COMPLETED"
        ? "successful_requests"
        : finished.state === "FAILED"
          ? "failed_requests"
          : "cancelled_requests",
    );
    this.#observe(`pipeline_${finished.state.toLowerCase()}`, finished.latency_ms);
    if (finished.admitted) this.#observe("queue_wait", finished.queue_ms);
    for (const stage of finished.stages) this.#observe(`stage_${stage.stage.toLowerCase()}`, stage.duration_ms);
    this.#pump();
    if (release) await this.#placePending();
  }

  /** Starts queued pipelines while running slots are free, highest priority first. */
  #pump(): void {
    while (this.#running.size < this.#config.ATOMIC_MAX_CONCURRENT && this.#queued > 0) {
      const next = this.#sql.exec("SELECT pipeline_id FROM queue ORDER BY rank, n LIMIT 1").toArray()[0];
      if (!next) {
        this.#queued = 0;
        break;
      }
      const id = TextColumn.parse(next["pipeline_id"]);
      this.#sql.exec("DELETE FROM queue WHERE pipeline_id = ?", id);
      this.#queued -= 1;
      this.#admit(id);
      this.env.PIPELINE.getByName(id)
        .admit()
        .catch((error: unknown) => this.#log.error("could not admit pipeline", { pipeline_id: id, error }));
    }
  }

  #admit(id: string): void {
    this.#running.add(id);
    this.#sql.exec("INSERT OR REPLACE INTO running (pipeline_id, admitted_at) VALUES (?, ?)", id, Date.now());
  }

  #retryAfterSeconds(): number {
    const latency = this.#histograms.get("pipeline_completed");
    const average = latency && latency.count > 0 ? latency.sum / latency.count : 1;
    const waves = Math.ceil((this.#queued + 1) / this.#config.ATOMIC_MAX_CONCURRENT);
    return Math.max(1, Math.min(300, Math.ceil(average * waves)));
  }

  // ---------------------------------------------------------------- jobs

  /**
   * Places a job on the least-loaded agent that can run it, or queues it, or says none can.
   * `release`: the owner's previous job, whose result it stored: its slot is freed first, in the
   * same write as the placement.
   */
  async placeJob(spec: JobSpec, release?: JobRef): Promise<PlaceOutcome> {
    if (!release) return this.#placeJob(spec);
    this.#release(release.job_id, release.attempt);
    const outcome = await this.#placeJob(spec);
    await this.#placePending();
    return outcome;
  }

  async #placeJob(spec: JobSpec): Promise<PlaceOutcome> {
    const agentId = await this.#tryPlace(spec);
    if (agentId) return { status: "placed", agent_id: agentId };
    if (spec.mode === "if-available" || spec.wait_ms <= 0) return { status: "unavailable" };
    const waitUntil = Date.now() + spec.wait_ms;
    this.#sql.exec(
      "INSERT OR REPLACE INTO pending (job_id, attempt, rank, n, wait_until, body) VALUES (?, ?, ?, ?, ?, ?)",
      spec.job_id,
      spec.attempt,
      PRIORITY_RANK[spec.priority],
      this.#nextN("pending"),
      waitUntil,
      JSON.stringify(spec),
    );
    this.#pendingJobs += 1;
    await this.#armAlarm();
    this.#log.info("job waits for an agent", { job_id: spec.job_id, kind: spec.kind, wait_ms: spec.wait_ms });
    return { status: "queued" };
  }

  async #tryPlace(spec: JobSpec): Promise<string | null> {
    const tried = new Set<string>();
    for (;;) {
      const agent = chooseAgent(
        [...this.#agents.values()].filter((a) => !tried.has(a.agent_id)),
        spec,
      );
      if (!agent) return null;
      tried.add(agent.agent_id);
      agent.running += 1;
      this.#sql.exec(
        "INSERT OR REPLACE INTO placed (job_id, attempt, agent_id) VALUES (?, ?, ?)",
        spec.job_id,
        spec.attempt,
        agent.agent_id,
      );
      this.#saveAgent(agent);
      const accepted = await this.env.AGENT.getByName(agent.agent_id)
        .assign(spec)
        .catch((error: unknown) => {
          this.#log.warn("assign failed", { agent_id: agent.agent_id, error });
          return false;
        });
      if (accepted) return agent.agent_id;
      this.#release(spec.job_id, spec.attempt);
    }
  }

  async cancelJob(jobId: string, attempt: number, reason: string): Promise<void> {
    const removed = this.#sql.exec("DELETE FROM pending WHERE job_id = ? AND attempt = ?", jobId, attempt).rowsWritten;
    if (removed > 0) {
      this.#pendingJobs = Math.max(0, this.#pendingJobs - removed);
      return;
    }
    const placed = this.#sql
      .exec("SELECT job_id, attempt, agent_id FROM placed WHERE job_id = ? AND attempt = ?", jobId, attempt)
      .toArray()[0];
    if (!placed) return;
    const row = PlacedRow.parse(placed);
    await this.env.AGENT.getByName(row.agent_id)
      .cancelJob(jobId, attempt, reason)
      .catch((error: unknown) => this.#log.warn("cancel did not reach the agent", { job_id: jobId, error }));
  }

  /** The agent is done with a job (result stored, cancelled, or lost): its slot is free again. */
  async jobReleased(jobId: string, attempt: number): Promise<void> {
    this.#release(jobId, attempt);
    await this.#placePending();
  }

  #release(jobId: string, attempt: number): void {
    const row = this.#sql
      .exec("SELECT job_id, attempt, agent_id FROM placed WHERE job_id = ? AND attempt = ?", jobId, attempt)
      .toArray()[0];
    if (!row) return;
    const placed = PlacedRow.parse(row);
    this.#sql.exec("DELETE FROM placed WHERE job_id = ? AND attempt = ?", jobId, attempt);
    const agent = this.#agents.get(placed.agent_id);
    if (agent) {
      agent.running = Math.max(0, agent.running - 1);
      this.#saveAgent(agent);
    }
  }

  /** Places waiting jobs, in priority order, while some agent has room. */
  async #placePending(): Promise<void> {
    if (this.#pendingJobs === 0) return;
    const rows = this.#sql.exec("SELECT body, wait_until FROM pending ORDER BY rank, n").toArray();
    for (const raw of rows) {
      const row = PendingRow.parse(raw);
      const spec = JobSpecSchema.parse(JSON.parse(row.body));
      const taken = this.#sql.exec(
        "DELETE FROM pending WHERE job_id = ? AND attempt = ?",
        spec.job_id,
        spec.attempt,
      ).rowsWritten;
      if (taken === 0) continue;
      this.#pendingJobs = Math.max(0, this.#pendingJobs - 1);
      const agentId = await this.#tryPlace(spec);
      if (agentId) continue;
      // No room after all: put it back where it was and stop looking for now.
      this.#sql.exec(
        "INSERT OR REPLACE INTO pending (job_id, attempt, rank, n, wait_until, body) VALUES (?, ?, ?, ?, ?, ?)",
        spec.job_id,
        spec.attempt,
        PRIORITY_RANK[spec.priority],
        0,
        row.wait_until,
        row.body,
      );
      this.#pendingJobs += 1;
      break;
    }
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    const expired = this.#sql.exec("SELECT body, wait_until FROM pending WHERE wait_until <= ?", now).toArray();
    for (const raw of expired) {
      const spec = JobSpecSchema.parse(JSON.parse(PendingRow.parse(raw).body));
      this.#sql.exec("DELETE FROM pending WHERE job_id = ? AND attempt = ?", spec.job_id, spec.attempt);
      this.#pendingJobs = Math.max(0, this.#pendingJobs - 1);
      this.#log.warn("no agent took the job in time", { job_id: spec.job_id, wait_ms: spec.wait_ms });
      await jobOwner(this.env, spec.owner)
        .jobResult(spec.job_id, spec.attempt, 0, {
          ok: false,
          error: {
            code: "no_agent",
            message: `no host-agent could take the ${spec.kind} job within ${spec.wait_ms} ms (ATOMIC_AGENT_WAIT_MS)`,
            retryable: false,
          },
        })
        .catch((error: unknown) => this.#log.error("could not fail the job", { job_id: spec.job_id, error }));
    }
    await this.#armAlarm();
  }

  async #armAlarm(): Promise<void> {
    const next = this.#sql.exec("SELECT MIN(wait_until) AS next FROM pending").one()["next"];
    if (typeof next === "number") await this.ctx.storage.setAlarm(next);
  }

  // ---------------------------------------------------------------- agents

  async agentUp(up: AgentUp): Promise<void> {
    const agent: AgentInfo = {
      agent_id: up.agent_id,
      labels: up.labels,
      capacity: up.capacity,
      kinds: up.kinds,
      health: up.health,
      connected: true,
      draining: false,
      running: 0,
      connected_at: Date.now(),
    };
    this.#sql.exec("DELETE FROM placed WHERE agent_id = ?", up.agent_id);
    for (const job of up.jobs) {
      this.#sql.exec(
        "INSERT OR REPLACE INTO placed (job_id, attempt, agent_id) VALUES (?, ?, ?)",
        job.job_id,
        job.attempt,
        up.agent_id,
      );
    }
    agent.running = up.jobs.length;
    this.#agents.set(agent.agent_id, agent);
    this.#saveAgent(agent);
    this.#log.info("agent linked", { agent_id: agent.agent_id, capacity: agent.capacity, kinds: agent.kinds });
    await this.#placePending();
  }

  async agentStatus(
    agentId: string,
    status: { health?: AgentHealth; draining?: boolean; connected?: boolean },
  ): Promise<void> {
    const agent = this.#agents.get(agentId);
    if (!agent) return;
    if (status.health) agent.health = status.health;
    if (status.draining !== undefined) agent.draining = status.draining;
    if (status.connected !== undefined) agent.connected = status.connected;
    this.#saveAgent(agent);
    if (agent.connected && !agent.draining) await this.#placePending();
  }

  /** The agent's grace period is over: forget it and the jobs it had. */
  async agentGone(agentId: string): Promise<void> {
    this.#agents.delete(agentId);
    this.#sql.exec("DELETE FROM agents WHERE agent_id = ?", agentId);
    this.#sql.exec("DELETE FROM placed WHERE agent_id = ?", agentId);
    this.#log.info("agent gone", { agent_id: agentId });
  }

  #saveAgent(agent: AgentInfo): void {
    this.#sql.exec(
      "INSERT OR REPLACE INTO agents (agent_id, body) VALUES (?, ?)",
      agent.agent_id,
      JSON.stringify(agent),
    );
  }

  // ---------------------------------------------------------------- metrics

  async snapshot(): Promise<MetricsSnapshot> {
    const agents = [...this.#agents.values()];
    const byRank = this.#sql.exec("SELECT rank, COUNT(*) AS n FROM queue GROUP BY rank").toArray();
    const queueBy = { high: 0, normal: 0, low: 0 };
    for (const row of byRank) {
      const rank = NumberColumn.parse(row["rank"]);
      const n = NumberColumn.parse(row["n"]);
      if (rank === 0) queueBy.high = n;
      else if (rank === 1) queueBy.normal = n;
      else queueBy.low = n;
    }
    return {
      counters: { ...this.#counters },
      histograms: Object.fromEntries(this.#histograms),
      active_pipelines: this.#running.size,
      queue_size: this.#queued,
      queue_by_priority: queueBy,
      jobs_waiting: this.#pendingJobs,
      jobs_running: agents.reduce((sum, a) => sum + a.running, 0),
      max_concurrent: this.#config.ATOMIC_MAX_CONCURRENT,
      max_queue_size: this.#config.ATOMIC_MAX_QUEUE_SIZE,
      agents: agents.map((a) => ({ ...a })),
    };
  }

  #count(name: Counter): void {
    this.#counters[name] += 1;
    this.#sql.exec("INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)", name, this.#counters[name]);
  }

  #observe(name: string, ms: number): void {
    const state = this.#histograms.get(name) ?? emptyHistogram();
    observe(state, ms);
    this.#histograms.set(name, state);
    this.#sql.exec("INSERT OR REPLACE INTO histograms (name, body) VALUES (?, ?)", name, JSON.stringify(state));
  }

  #nextN(table: "queue" | "pending"): number {
    const row = this.#sql.exec(`SELECT COALESCE(MAX(n), 0) + 1 AS next FROM ${table}`).one();
    return NumberColumn.parse(row["next"]);
  }
}
