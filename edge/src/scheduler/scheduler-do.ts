import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { HEARTBEAT_MISSES } from "../../../shared/src/index.ts";
import type { AgentHealth, ErrorBody, PipelineChange, PoolOverviewEvent, Priority } from "../../../shared/src/index.ts";
import { authMode } from "../access/api-keys.ts";
import { readConfig, type EdgeConfig } from "../config.ts";
import { createEdgeLogger, type EdgeLogger } from "../log.ts";
import type { JobOwner, JobRef, JobSpec } from "../jobs/job.ts";
import { jobOwner } from "../jobs/owner.ts";
import {
  executionHistogram,
  pipelineHistogram,
  QUEUE_WAIT_HISTOGRAM,
  stageHistogram,
  type MetricsSnapshot,
} from "../metrics/snapshot.ts";
import { RecentWindow } from "../metrics/recent-window.ts";
import { uptimeMs } from "../metrics/uptime.ts";
import { healthOf, metricsOf, statusOf } from "../metrics/views.ts";
import { Admission, retryAfterSeconds, type EnqueueOutcome } from "./admission.ts";
import { AgentRegistry } from "./agent-registry.ts";
import { JobPlacement, type PlaceOutcome } from "./job-placement.ts";
import { PipelineIndex, type IndexQuery, type IndexRow } from "./pipeline-index.ts";
import { PoolFeed } from "./pool-feed.ts";
import { PoolMetrics } from "./pool-metrics.ts";
import type { AgentUp, FinishedExecution, FinishedPipeline } from "./reports.ts";

/** The header the `/ws/pool` route names its authenticated caller in (a request from the Worker only). */
export const CALLER_HEADER = "X-Atomic-Caller";
const Caller = z.object({ owner: z.string().nullable(), operator: z.boolean() });

/**
 * One pool's scheduler (DESIGN §3), the RPC surface over its parts: admission (the running set and
 * the priority queue of pipelines), the agent registry, job placement, and the pool's metrics.
 * Control traffic only: tokens never pass through here, so its work per pipeline stays a handful
 * of small writes. It also serves the pool's live feed to dashboards (`PoolFeed`).
 */
export class SchedulerDO extends DurableObject<Env> {
  #config: EdgeConfig;
  #log: EdgeLogger;
  #admission!: Admission;
  #agents!: AgentRegistry;
  #placement!: JobPlacement;
  #metrics!: PoolMetrics;
  #index!: PipelineIndex;
  readonly #recent = new RecentWindow();
  readonly #feed: PoolFeed;
  /** When this object started: an agent not heard from since is as old as this. */
  readonly #startedAt = Date.now();
  /** When the sweep last asked each silent agent's link about it (in memory). */
  readonly #checkedAt = new Map<string, number>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#config = readConfig(env);
    this.#log = createEdgeLogger(this.#config.ATOMIC_LOG_LEVEL, { component: "scheduler" });
    this.#feed = new PoolFeed(ctx, () => this.#overviewEvent(), this.#log);
    // A feed's keepalive is answered without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
    ctx.blockConcurrencyWhile(async () => {
      const sql = ctx.storage.sql;
      // Placements were keyed by job before they were keyed by slot; the agents re-link to rebuild them.
      sql.exec("DROP TABLE IF EXISTS placed");
      this.#admission = new Admission(sql, {
        maxConcurrent: this.#config.ATOMIC_MAX_CONCURRENT,
        maxQueued: this.#config.ATOMIC_MAX_QUEUE_SIZE,
        maxRunningPerKey: this.#config.ATOMIC_MAX_RUNNING_PER_KEY,
      });
      this.#agents = new AgentRegistry(sql);
      this.#placement = new JobPlacement(
        sql,
        this.#agents,
        (agentId, spec) => this.env.AGENT_LINK.getByName(agentId).assign(spec),
        this.#log,
      );
      this.#metrics = new PoolMetrics(sql);
      this.#index = new PipelineIndex(sql);
      // Agents saved from before a restart are swept if their links never speak again.
      await this.#armAlarm();
    });
  }

  // ---------------------------------------------------------------- pipelines

  /** Admits a pipeline now, queues it, or refuses it when the queue is full. */
  async enqueue(input: {
    pipeline_id: string;
    priority: Priority;
    owner: string | null;
    created_at: number;
    prompt: string;
  }): Promise<EnqueueOutcome> {
    if (this.#admission.isRunning(input.pipeline_id)) return { status: "admitted", position: 0 };
    let outcome = this.#admission.enqueue(input.pipeline_id, input.priority, input.owner, () =>
      retryAfterSeconds(
        this.#metrics.meanSeconds(pipelineHistogram("COMPLETED")) ?? 1,
        this.#admission.queued,
        this.#config.ATOMIC_MAX_CONCURRENT,
      ),
    );
    // Slots may be free while the queue holds only pipelines of keys at their cap: this one, or
    // (after a restart with other limits) some of those, may start now.
    const others: string[] = [];
    if (outcome.status === "queued") {
      for (const id of this.#admission.pump()) {
        if (id === input.pipeline_id) outcome = { status: "admitted", position: 0 };
        else others.push(id);
      }
    }
    this.#metrics.count(outcome.status === "full" ? "rejected_requests" : "total_requests");
    if (outcome.status !== "full") {
      this.#index.queued({
        id: input.pipeline_id,
        owner: input.owner,
        created_at: input.created_at,
        priority: input.priority,
        prompt: input.prompt,
      });
      this.#feed.pipelineChanged(
        outcome.status === "admitted"
          ? { pipeline_id: input.pipeline_id, change: "started", state: null }
          : { pipeline_id: input.pipeline_id, change: "queued", state: "QUEUED" },
        input.owner,
      );
    } else this.#feed.changed();
    this.#started(others);
    return outcome;
  }

  /** A pipeline ended: its running slot and the slot of its last job are free. */
  async pipelineFinished(finished: FinishedPipeline): Promise<void> {
    const freed = this.#placement.releaseOwner({ kind: "pipeline", id: finished.pipeline_id });
    this.#admission.remove(finished.pipeline_id);
    this.#metrics.count(
      finished.state === "COMPLETED"
        ? "successful_requests"
        : finished.state === "FAILED"
          ? "failed_requests"
          : "cancelled_requests",
    );
    this.#metrics.observe(pipelineHistogram(finished.state), finished.latency_ms);
    if (finished.admitted) this.#metrics.observe(QUEUE_WAIT_HISTOGRAM, finished.queue_ms);
    for (const stage of finished.stages) this.#metrics.observe(stageHistogram(stage.stage), stage.duration_ms);
    if (finished.verification)
      this.#metrics.countVerification(finished.verification.status, finished.verification.repairs);
    this.#recent.pipelineEnded(Date.now(), finished.state, finished.latency_ms);
    this.#pipelineChanged({ pipeline_id: finished.pipeline_id, change: "finished", state: finished.state });
    this.#started(this.#admission.pump());
    this.#index.finished(
      finished.pipeline_id,
      {
        state: finished.state,
        finished_at: finished.finished_at,
        verified: finished.verification?.status === "passed",
        verification: finished.verification?.status ?? null,
      },
      finished.finished_at + Math.round(this.#config.ATOMIC_PIPELINE_RETENTION_HOURS * 3_600_000),
    );
    if (freed) await this.#placement.placeWaiting();
  }

  /** Tells queued pipelines the admission let in that they may start. */
  #started(ids: readonly string[]): void {
    for (const id of ids) {
      this.#pipelineChanged({ pipeline_id: id, change: "started", state: null });
      this.env.PIPELINE.getByName(id)
        .admit()
        .catch((error: unknown) => this.#log.error("could not admit pipeline", { pipeline_id: id, error }));
    }
  }

  /** The pool's recent pipelines, newest first (`GET /api/pipelines`). */
  async listPipelines(query: IndexQuery): Promise<IndexRow[]> {
    return this.#index.list(query, Date.now());
  }

  /** An `/api/execute` run was answered: its outcome and duration go into the metrics. */
  async executionFinished(finished: FinishedExecution): Promise<void> {
    this.#metrics.observe(executionHistogram(finished.outcome), finished.duration_ms);
    if (finished.outcome === "failed") this.#metrics.countFailure(finished.code);
    this.#recent.executionAnswered(Date.now());
    this.#feed.changed();
  }

  // ---------------------------------------------------------------- jobs

  /**
   * Places a job on the least-loaded agent that can run it, or lets it wait, or says none can. A
   * pipeline's previous job is done by the time it places the next, so its slot is freed first.
   */
  async placeJob(spec: JobSpec): Promise<PlaceOutcome> {
    const outcome = await this.#placement.place(spec);
    this.#feed.changed();
    if (outcome.status === "queued") await this.#armAlarm();
    return outcome;
  }

  /**
   * A pipeline's next job went straight to the agent that ran its previous one (the agent link
   * took it on from the result): the pipeline's slot there now names it.
   */
  async jobContinued(previous: JobRef, next: JobRef & { owner: JobOwner }, agentId: string): Promise<void> {
    if (this.#placement.continued(previous, next, agentId)) this.#feed.changed();
  }

  /**
   * Takes a job back: out of the wait, or cancelled at its agent (whose link then releases it).
   * `owner` finds a pipeline's job that its agent took on before the slot was told.
   */
  async cancelJob(job: JobRef, reason: string, owner?: JobOwner): Promise<void> {
    const where = this.#placement.withdraw(job, owner);
    if (where === null || where === "waiting") return;
    await this.env.AGENT_LINK.getByName(where.agent_id)
      .cancelJob(job, reason)
      .catch((error: unknown) => this.#log.warn("cancel did not reach the agent", { job_id: job.job_id, error }));
  }

  /** The agent link is done with a job (cancelled, lost, refused, or an execution's result): its slot is free. */
  async jobReleased(job: JobRef): Promise<void> {
    this.#feed.changed();
    if (this.#placement.releaseJob(job)) await this.#placement.placeWaiting();
  }

  /**
   * Reports every waiting job no agent took in time to its owner, and sweeps agents that have
   * been silent past their heartbeat timeout and grace period.
   */
  override async alarm(): Promise<void> {
    for (const spec of this.#placement.expire(Date.now())) {
      this.#log.warn("no agent took the job in time", { job_id: spec.job_id, wait_ms: spec.wait_ms });
      const error: ErrorBody = {
        code: "no_agent",
        message: `no host-agent could take the ${spec.kind} job within ${spec.wait_ms} ms (ATOMIC_AGENT_WAIT_MS)`,
      };
      await jobOwner(this.env, spec.owner)
        .jobUnplaced({ job_id: spec.job_id, attempt: spec.attempt }, error)
        .catch((err: unknown) =>
          this.#log.error("could not report an unplaced job", { job_id: spec.job_id, error: err }),
        );
    }
    await this.#sweepAgents(Date.now());
    await this.#armAlarm();
  }

  async #armAlarm(): Promise<void> {
    const times = [this.#placement.nextExpiry(), this.#nextSweep()].filter((t): t is number => t !== null);
    if (times.length > 0) await this.ctx.storage.setAlarm(Math.min(...times));
  }

  /** How long an agent may stay silent before the sweep asks its link about it. */
  get #silenceMs(): number {
    return this.#config.ATOMIC_HEARTBEAT_MS * HEARTBEAT_MISSES + this.#config.ATOMIC_AGENT_GRACE_MS;
  }

  #heardAt(agent: { agent_id: string; last_heartbeat_at: number | null }): number {
    return Math.max(agent.last_heartbeat_at ?? 0, this.#checkedAt.get(agent.agent_id) ?? 0, this.#startedAt);
  }

  #nextSweep(): number | null {
    let next: number | null = null;
    for (const agent of this.#agents.all()) {
      const due = this.#heardAt(agent) + this.#silenceMs;
      next = next === null ? due : Math.min(next, due);
    }
    return next;
  }

  /**
   * Each agent's link normally reports its own loss (its alarm). Should that never come (an alarm
   * lost with a restart), the scheduler asks the link of every agent it has not heard from in a
   * heartbeat timeout plus a grace period; a link that holds no agent is forgotten here too, so
   * no ghost keeps counting toward placement.
   */
  async #sweepAgents(now: number): Promise<void> {
    for (const agent of this.#agents.all()) {
      if (this.#heardAt(agent) + this.#silenceMs > now) continue;
      this.#checkedAt.set(agent.agent_id, now);
      const state = await this.env.AGENT_LINK.getByName(agent.agent_id)
        .check(this.ctx.id.name ?? "default")
        .catch((error: unknown) => {
          this.#log.warn("could not ask an agent's link about it", { agent_id: agent.agent_id, error });
          return null;
        });
      if (state === "unknown" && this.#agents.get(agent.agent_id)) await this.agentGone(agent.agent_id);
    }
  }

  // ---------------------------------------------------------------- agents

  async agentUp(up: AgentUp): Promise<void> {
    this.#agents.up({
      agent_id: up.agent_id,
      labels: up.labels,
      capacity: up.capacity,
      kinds: up.kinds,
      health: up.health,
      connected: true,
      draining: false,
      connected_at: Date.now(),
    });
    this.#placement.agentUp(up.agent_id, up.jobs);
    this.#log.info("agent linked", { agent_id: up.agent_id, capacity: up.capacity, kinds: up.kinds });
    this.#feed.changed();
    await this.#placement.placeWaiting();
    await this.#armAlarm();
  }

  async agentStatus(
    agentId: string,
    status: { health?: AgentHealth; draining?: boolean; connected?: boolean; heartbeat_at?: number },
  ): Promise<void> {
    const agent = this.#agents.update(agentId, status);
    this.#feed.changed();
    if (agent && agent.connected && !agent.draining) await this.#placement.placeWaiting();
  }

  /** The agent's grace period is over: forget it and the slots of the jobs it had. */
  async agentGone(agentId: string): Promise<void> {
    this.#agents.remove(agentId);
    this.#checkedAt.delete(agentId);
    this.#placement.agentGone(agentId);
    this.#log.info("agent gone", { agent_id: agentId });
    this.#feed.changed();
  }

  // ---------------------------------------------------------------- the live feed

  /**
   * `GET /ws/pool`, forwarded by the route with the caller it authenticated in `X-Atomic-Caller`:
   * 101 with the feed, or 429 when the pool serves as many feeds as it will.
   */
  override async fetch(request: Request): Promise<Response> {
    let named: unknown = null;
    try {
      named = JSON.parse(request.headers.get(CALLER_HEADER) ?? "null");
    } catch {
      // Left null: refused below.
    }
    const caller = Caller.safeParse(named);
    if (!caller.success) return new Response(null, { status: 400 });
    const opened = this.#feed.open(caller.data);
    if (opened.status === "full") return new Response(null, { status: 429 });
    return new Response(null, { status: 101, webSocket: opened.socket });
  }

  /** A feed's client has nothing to say beyond its keepalive, which the auto-response answers. */
  override async webSocketMessage(): Promise<void> {}

  override async webSocketClose(ws: WebSocket): Promise<void> {
    this.#feed.closed(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.#feed.closed(ws);
  }

  #pipelineChanged(change: PipelineChange): void {
    if (this.#feed.watched) this.#feed.pipelineChanged(change, this.#index.owner(change.pipeline_id));
  }

  #overviewEvent(): PoolOverviewEvent {
    const snapshot = this.#snapshot();
    const now = Date.now();
    return {
      type: "overview",
      at: new Date(now).toISOString(),
      health: healthOf(snapshot, { uptime_ms: uptimeMs(), auth: authMode(this.#config) }),
      status: statusOf(snapshot),
      metrics: metricsOf(snapshot),
      recent: this.#recent.series(now),
    };
  }

  // ---------------------------------------------------------------- metrics

  async snapshot(): Promise<MetricsSnapshot> {
    return this.#snapshot();
  }

  #snapshot(): MetricsSnapshot {
    const agents = this.#agents.all();
    return {
      counters: this.#metrics.counters(),
      histograms: this.#metrics.histograms(),
      execution_failures: this.#metrics.failures(),
      verifications: this.#metrics.verifications(),
      active_pipelines: this.#admission.running,
      queue_size: this.#admission.queued,
      queue_by_priority: this.#admission.queuedByPriority(),
      tenants: this.#admission.tenants(),
      jobs_waiting: this.#placement.waiting,
      jobs_running: agents.reduce((sum, a) => sum + a.running, 0),
      max_concurrent: this.#config.ATOMIC_MAX_CONCURRENT,
      max_queue_size: this.#config.ATOMIC_MAX_QUEUE_SIZE,
      agents: agents.map((a) => ({ ...a })),
    };
  }
}
