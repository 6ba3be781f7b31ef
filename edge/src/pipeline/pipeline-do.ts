import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import type {
  ErrorBody,
  GenerateRequest,
  JobEventBody,
  PipelineState,
  PipelineView,
  StageName,
} from "../../../shared/src/index.ts";
import {
  ClientCommand,
  FINAL_STATES,
  GenerateRequest as GenerateRequestSchema,
  LIMITS,
} from "../../../shared/src/index.ts";
import { readConfig, type EdgeConfig } from "../config.ts";
import { TextColumn } from "../storage/columns.ts";
import { createEdgeLogger, type EdgeLogger } from "../log.ts";
import type { JobRef, JobSpec, PlaceOutcome } from "../scheduler/jobs.ts";
import { ContentTracker, EventLog, type DistributiveOmit } from "./event-log.ts";
import { ClientStreams } from "./client-streams.ts";
import { FanOut, closeQuietly, readAttachment } from "./fan-out.ts";
import { artifactKeys } from "./links.ts";
import { PipelineRecord, type StageRecord } from "./record.ts";
import type { JobOutcome, StageContext, StageHandler, StageStep } from "./stage.ts";
import { STAGES } from "./stages/index.ts";
import { viewOf } from "./view.ts";
import type { ClientEvent } from "../../../shared/src/index.ts";

export interface CreatePipeline {
  id: string;
  request_id: string;
  request: GenerateRequest;
}

export type CreateOutcome = { ok: true; view: PipelineView } | { ok: false; error: ErrorBody; retry_after_s?: number };

/** How the pipeline took a job event: the agent acks up to `last_seq`. */
export type EventAck = { status: "stored" | "duplicate" | "gap" | "stale"; last_seq: number };
/**
 * `released`: the owner already gave the job's slot back to the scheduler, in the same call that
 * placed its next job or ended the pipeline; the agent link then need not release it.
 */
export type ResultAck = { status: "stored" | "stale" | "missing_events"; last_seq: number; released?: boolean };

const ProgressRow = z.object({
  job_id: z.string(),
  attempt: z.number(),
  last_seq: z.number(),
  content_chars: z.number(),
});
const StartAttachment = z.object({ request_id: z.string() });

const STAGE_BY_NAME = new Map<StageName, StageHandler>(STAGES.map((stage) => [stage.name, stage]));

/**
 * One pipeline (DESIGN §4): its request, its state machine, its append-only event log, and the
 * client sockets that follow it. Named by pipeline id. Every event is stored before it is
 * broadcast, so a client that comes back with `after=SEQ` misses nothing and sees nothing twice.
 */
export class PipelineDO extends DurableObject<Env> {
  #sql: SqlStorage;
  #log!: EventLog;
  #fanOut: FanOut;
  #streams!: ClientStreams;
  #record: PipelineRecord | null = null;
  #content = "";
  #waiters = new Set<() => void>();
  #config: EdgeConfig;
  #logger: EdgeLogger;
  /** Bumped on every stage transition: a continuation that finds it changed has been overtaken. */
  #epoch = 0;
  /** When the alarm this object last set will ring (null: none known to be set). */
  #alarmAt: number | null = null;
  /**
   * The job whose result was just stored and whose slot is still counted at the scheduler: the
   * next call to the scheduler (the next stage's placement, or the finish) releases it, which
   * saves the scheduler a write of its own for each job.
   */
  #unreleased: JobRef | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#fanOut = new FanOut(ctx);
    this.#config = readConfig(env);
    this.#logger = createEdgeLogger(this.#config.ATOMIC_LOG_LEVEL, { component: "pipeline" });
    // Keep-alive pings are answered without waking the object from hibernation.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
    ctx.blockConcurrencyWhile(async () => {
      // A new object creates its tables with its first write (create), not here: a write here
      // would be a commit of its own for every pipeline, and a lookup of an unknown id writes nothing.
      const created = this.#sql
        .exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'pipeline'")
        .toArray();
      this.#log = new EventLog(this.#sql);
      this.#streams = new ClientStreams(ctx, this.#fanOut, this.#log, this.#config.ATOMIC_MAX_SUBSCRIBERS);
      if (created.length === 0) return;
      const row = this.#sql.exec("SELECT body FROM pipeline WHERE id = 1").toArray()[0];
      if (row) {
        const parsed = PipelineRecord.safeParse(JSON.parse(TextColumn.parse(row["body"])));
        if (parsed.success) {
          this.#record = parsed.data;
          this.#applyProgress(parsed.data);
          this.#logger = this.#logger.child({ pipeline_id: parsed.data.id, request_id: parsed.data.request_id });
          const tracker = new ContentTracker();
          for (const event of this.#log.since(0)) tracker.feed(event);
          this.#content = tracker.text;
        } else {
          this.#logger.error("stored pipeline record does not parse", { issues: parsed.error.issues.slice(0, 3) });
        }
      }
    });
  }

  // ---------------------------------------------------------------- RPC: API

  /** Creates the pipeline and puts it in its pool's queue. */
  async create(init: CreatePipeline): Promise<CreateOutcome> {
    if (this.#record) return { ok: false, error: { code: "conflict", message: `pipeline ${init.id} already exists` } };
    const now = Date.now();
    const metadata = init.request.metadata ?? {};
    const record: PipelineRecord = {
      id: init.id,
      request_id: init.request_id,
      request: init.request,
      pool: metadata.pool ?? "default",
      priority: init.request.priority ?? "normal",
      state: "IDLE",
      created_at: now,
      updated_at: now,
      admitted_at: null,
      finished_at: null,
      stages: STAGES.filter((stage) => stage.applies(init.request)).map((stage): StageRecord => ({
        stage: stage.name,
        status: "pending",
        attempts: 0,
        started_at: null,
        duration_ms: null,
        agent_id: null,
      })),
      stage_index: -1,
      stage_attempt: 0,
      stage_retries: 0,
      stage_deadline_at: null,
      job: null,
      requirements: null,
      artifacts: null,
      validation: null,
      export: null,
      error: null,
      content_chars: 0,
      cleanup_at: null,
    };
    this.#logger = this.#logger.child({ pipeline_id: init.id, request_id: init.request_id });
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS pipeline (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS progress (id INTEGER PRIMARY KEY CHECK (id = 1), job_id TEXT NOT NULL, attempt INTEGER NOT NULL, last_seq INTEGER NOT NULL, content_chars INTEGER NOT NULL);`);
    this.#log.createTable();
    const outcome = await this.#scheduler(record.pool).enqueue({ pipeline_id: init.id, priority: record.priority });
    if (outcome.status === "full") {
      return {
        ok: false,
        error: { code: "queue_full", message: `the queue of pool ${record.pool} is full; try again later` },
        retry_after_s: outcome.retry_after_s,
      };
    }
    this.#record = record;
    this.#transition("QUEUED");
    this.#emit({ type: "queued", pipeline_id: record.id, priority: record.priority, position: outcome.position });
    this.#save();
    this.#logger.info("pipeline queued", { pool: record.pool, priority: record.priority, position: outcome.position });
    if (outcome.status === "admitted") this.#run(() => this.#admitted());
    return { ok: true, view: this.#view() };
  }

  /** The scheduler gives this pipeline a running slot. */
  async admit(): Promise<void> {
    if (this.#record?.state !== "QUEUED") return;
    await this.#admitted();
  }

  async view(): Promise<PipelineView | null> {
    return this.#record ? this.#view() : null;
  }

  /** Resolves with the final view and content once the pipeline ends, or the current ones after `timeoutMs`. */
  async waitForFinish(timeoutMs: number): Promise<{ view: PipelineView; content: string } | null> {
    if (!this.#record) return null;
    if (!FINAL_STATES.has(this.#record.state)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        this.#waiters.add(done);
      });
    }
    return { view: this.#view(), content: this.#content };
  }

  async cancel(reason: string): Promise<PipelineView | null> {
    const record = this.#record;
    if (!record) return null;
    if (FINAL_STATES.has(record.state)) return this.#view();
    await this.#cancelJob(reason);
    await this.#finish("CANCELLED", { code: "cancelled", message: reason });
    return this.#view();
  }

  // ---------------------------------------------------------------- RPC: agent link

  async jobEvent(jobId: string, attempt: number, seq: number, event: JobEventBody): Promise<EventAck> {
    const job = this.#record?.job;
    if (!job || job.job_id !== jobId || job.attempt !== attempt) return { status: "stale", last_seq: seq };
    if (seq <= job.last_seq) return { status: "duplicate", last_seq: job.last_seq };
    if (seq !== job.last_seq + 1) return { status: "gap", last_seq: job.last_seq };
    job.last_seq = seq;
    this.#stageHandler()?.onEvent?.(this.#stageContext(), event);
    // Per event only the small progress row is written; the whole record waits for the next transition.
    this.#sql.exec(
      "INSERT OR REPLACE INTO progress (id, job_id, attempt, last_seq, content_chars) VALUES (1, ?, ?, ?, ?)",
      job.job_id,
      job.attempt,
      seq,
      this.#record!.content_chars,
    );
    return { status: "stored", last_seq: seq };
  }

  async jobResult(
    jobId: string,
    attempt: number,
    events: number,
    outcome: JobOutcome,
    agentId?: string,
  ): Promise<ResultAck> {
    const record = this.#record;
    const job = record?.job;
    if (!record || !job || job.job_id !== jobId || job.attempt !== attempt) return { status: "stale", last_seq: 0 };
    if (events > job.last_seq) return { status: "missing_events", last_seq: job.last_seq };
    const handler = this.#stageHandler();
    if (!handler) return { status: "stale", last_seq: job.last_seq };
    record.job = null;
    const stage = this.#currentStage();
    if (stage && agentId) stage.agent_id = agentId;
    this.#save();
    this.#unreleased = { job_id: jobId, attempt };
    const epoch = this.#epoch;
    // On an exception the job stays unreleased here, for the next scheduler call to take.
    const step = await handler.onResult(this.#stageContext(), outcome);
    if (epoch === this.#epoch) await this.#apply(step);
    // Not taken by a scheduler call on the way (a cancel overtook it, say): the agent link releases it.
    const released = this.#unreleased === null;
    this.#unreleased = null;
    return { status: "stored", last_seq: job.last_seq, released };
  }

  /** The agent running this job is gone for good: run the stage again elsewhere. */
  async jobLost(jobId: string, attempt: number, reason: string): Promise<void> {
    const job = this.#record?.job;
    if (!job || job.job_id !== jobId || job.attempt !== attempt) return;
    this.#logger.warn("job lost with its agent", { job_id: jobId, attempt, reason });
    this.#record!.job = null;
    await this.#failStage({ code: "agent_lost", message: reason }, true, "agent");
  }

  /** Whether (jobId, attempt) is still wanted, and what of it is stored: for an agent that reconnects. */
  async jobStatus(jobId: string, attempt: number): Promise<{ current: boolean; last_seq: number }> {
    const job = this.#record?.job;
    if (!job || job.job_id !== jobId || job.attempt !== attempt) return { current: false, last_seq: 0 };
    return { current: true, last_seq: job.last_seq };
  }

  // ---------------------------------------------------------------- client sockets and SSE

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/ws") return this.#streams.acceptSocket(request, url, this.#record);
    if (url.pathname === "/sse") return this.#streams.openSse(url, this.#record);
    return new Response("not found", { status: 404 });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const text = typeof message === "string" ? message : new TextDecoder().decode(message);
    if (text.length > LIMITS.clientFrameMaxBytes) {
      return sendError(ws, "payload_too_large", `frames are limited to ${LIMITS.clientFrameMaxBytes} bytes`);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return sendError(ws, "invalid_json", "message is not valid JSON");
    }
    const attachment = readAttachment(ws);
    if (!this.#record && attachment.role === "start") {
      const parsed = GenerateRequestSchema.safeParse(body);
      if (!parsed.success) return sendError(ws, "invalid_request", describeIssues(parsed.error));
      const raw: unknown = ws.deserializeAttachment();
      const requestId = StartAttachment.safeParse(raw);
      const id = this.ctx.id.name ?? crypto.randomUUID();
      const outcome = await this.create({
        id,
        request_id: requestId.success ? requestId.data.request_id : crypto.randomUUID(),
        request: parsed.data,
      });
      if (!outcome.ok) return sendError(ws, outcome.error.code, outcome.error.message);
      if (parsed.data.metadata?.stream_mode === "delta") ws.serializeAttachment({ ...attachment, delta_only: true });
      return;
    }
    const command = ClientCommand.safeParse(body);
    if (!command.success) {
      return sendError(
        ws,
        "conflict",
        `this connection already follows pipeline ${this.#record?.id ?? "(none)"}; send {"type":"cancel"} or open a new connection for another prompt`,
      );
    }
    if (command.data.type === "ping") ws.send(JSON.stringify({ type: "pong" }));
    else await this.cancel("cancelled by client");
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    closeQuietly(ws, code === 1005 || code === 1006 ? 1000 : code, reason);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    closeQuietly(ws, 1011, "socket error");
  }

  // ---------------------------------------------------------------- alarm: deadlines and clean-up

  override async alarm(): Promise<void> {
    this.#alarmAt = null;
    const record = this.#record;
    if (!record) return;
    const now = Date.now();
    if (record.cleanup_at !== null && now >= record.cleanup_at) {
      await this.#purge();
      return;
    }
    if (record.stage_deadline_at !== null && now >= record.stage_deadline_at && !FINAL_STATES.has(record.state)) {
      const stage = this.#currentStage();
      this.#logger.warn("stage deadline passed", { stage: stage?.stage, attempt: record.stage_attempt });
      await this.#cancelJob("stage deadline passed");
      record.job = null;
      await this.#failStage(
        { code: "timeout", message: `${stage?.stage ?? "stage"} did not finish in time` },
        true,
        "error",
      );
      return;
    }
    this.#armAlarm();
  }

  // ---------------------------------------------------------------- the state machine

  async #admitted(): Promise<void> {
    const record = this.#record!;
    record.admitted_at = Date.now();
    await this.#startStage(0);
  }

  async #startStage(index: number): Promise<void> {
    const record = this.#record!;
    const stage = record.stages[index];
    if (!stage) return this.#finish("COMPLETED", null);
    const handler = STAGE_BY_NAME.get(stage.stage)!;
    if (record.stage_index !== index) {
      record.stage_index = index;
      record.stage_attempt = 0;
      record.stage_retries = 0;
    }
    record.stage_attempt += 1;
    stage.status = "running";
    stage.attempts = record.stage_attempt;
    stage.started_at ??= Date.now();
    record.stage_deadline_at = Date.now() + (handler.timeoutMs?.(this.#config) ?? this.#config.ATOMIC_STAGE_TIMEOUT_MS);
    if (stage.stage === "GENERATING") this.#content = "";
    this.#transition(stage.stage);
    this.#emit({
      type: "stage",
      pipeline_id: record.id,
      stage: stage.stage,
      status: "started",
      attempt: record.stage_attempt,
    });
    this.#save();
    this.#armAlarm();
    const epoch = ++this.#epoch;
    let step: StageStep;
    try {
      step = await handler.start(this.#stageContext());
    } catch (error) {
      this.#logger.error("stage failed unexpectedly", { stage: stage.stage, error });
      step = {
        kind: "fail",
        error: { code: "internal", message: `${stage.stage} failed: ${String(error)}` },
        retryable: true,
      };
    }
    if (epoch === this.#epoch) await this.#apply(step);
  }

  async #apply(step: StageStep): Promise<void> {
    const record = this.#record!;
    if (FINAL_STATES.has(record.state)) return;
    if (step.kind === "fail") return this.#failStage(step.error, step.retryable, "error");
    if (step.kind === "complete") {
      Object.assign(record, step.patch ?? {});
      const stage = this.#currentStage()!;
      stage.status = "completed";
      stage.duration_ms = Date.now() - (stage.started_at ?? Date.now());
      record.stage_deadline_at = null;
      this.#emit({
        type: "stage",
        pipeline_id: record.id,
        stage: stage.stage,
        status: "completed",
        attempt: record.stage_attempt,
        duration_ms: stage.duration_ms,
      });
      this.#save();
      return this.#startStage(record.stage_index + 1);
    }
    await this.#dispatch(step.job);
  }

  async #dispatch(job: Extract<StageStep, { kind: "job" }>["job"]): Promise<void> {
    const record = this.#record!;
    const stage = this.#currentStage()!;
    const jobId = `${record.id}/${stage.stage.toLowerCase()}`;
    record.job = {
      job_id: jobId,
      attempt: record.stage_attempt,
      kind: job.kind,
      last_seq: 0,
      dispatched_at: Date.now(),
    };
    this.#save();
    const spec: JobSpec = {
      job_id: jobId,
      attempt: record.stage_attempt,
      owner: { kind: "pipeline", id: record.id },
      pipeline_id: record.id,
      kind: job.kind,
      payload: job.payload,
      labels: record.request.metadata?.labels ?? {},
      priority: record.priority,
      deadline_ms: Math.max(1, (record.stage_deadline_at ?? Date.now() + 1000) - Date.now()),
      mode: job.mode,
      wait_ms: this.#config.ATOMIC_AGENT_WAIT_MS,
    };
    const epoch = this.#epoch;
    const release = this.#takeRelease();
    let placed: PlaceOutcome;
    try {
      placed = await this.#scheduler(record.pool).placeJob(spec, release);
    } catch (error) {
      // Whether the scheduler took the release is unknown: the next scheduler call carries it
      // again (a release of a job the scheduler already forgot changes nothing).
      this.#unreleased ??= release ?? null;
      throw error;
    }
    if (epoch !== this.#epoch || record.job?.job_id !== jobId || record.job.attempt !== spec.attempt) return;
    if (placed.status === "unavailable") {
      record.job = null;
      const handler = this.#stageHandler()!;
      const next = handler.onUnavailable
        ? await handler.onUnavailable(this.#stageContext())
        : ({
            kind: "fail",
            error: { code: "no_agent", message: "no host-agent can take this job" },
            retryable: false,
          } as const);
      if (epoch === this.#epoch) await this.#apply(next);
    }
  }

  async #failStage(error: ErrorBody, retryable: boolean, cause: "error" | "agent"): Promise<void> {
    const record = this.#record!;
    if (FINAL_STATES.has(record.state)) return;
    const stage = this.#currentStage();
    if (!stage) return this.#finish("FAILED", error);
    const retriesLeft = cause === "agent" || record.stage_retries < this.#config.ATOMIC_STAGE_RETRIES;
    if (retryable && retriesLeft && record.stage_attempt < this.#config.ATOMIC_MAX_ATTEMPTS) {
      if (cause === "error") record.stage_retries += 1;
      this.#emit({
        type: "stage",
        pipeline_id: record.id,
        stage: stage.stage,
        status: cause === "agent" ? "restarted" : "retrying",
        attempt: record.stage_attempt,
        reason: `${error.code}: ${error.message}`,
      });
      this.#logger.info("stage runs again", { stage: stage.stage, attempt: record.stage_attempt + 1, error });
      return this.#startStage(record.stage_index);
    }
    stage.status = "failed";
    stage.duration_ms = Date.now() - (stage.started_at ?? Date.now());
    this.#emit({
      type: "stage",
      pipeline_id: record.id,
      stage: stage.stage,
      status: "failed",
      attempt: record.stage_attempt,
      reason: `${error.code}: ${error.message}`,
    });
    return this.#finish("FAILED", error);
  }

  async #finish(
    state: Extract<PipelineState, "COMPLETED" | "FAILED" | "CANCELLED">,
    error: ErrorBody | null,
  ): Promise<void> {
    const record = this.#record!;
    if (FINAL_STATES.has(record.state)) return;
    this.#epoch++;
    const now = Date.now();
    for (const stage of record.stages) {
      if (stage.status === "pending") stage.status = state === "COMPLETED" ? "skipped" : "cancelled";
      if (stage.status === "running") {
        stage.status = state === "CANCELLED" ? "cancelled" : "failed";
        stage.duration_ms = now - (stage.started_at ?? now);
      }
    }
    record.error = error === null ? null : { code: error.code, message: error.message };
    record.finished_at = now;
    record.stage_deadline_at = null;
    record.job = null;
    record.cleanup_at = now + this.#config.ATOMIC_PIPELINE_RETENTION_HOURS * 3_600_000;
    this.#transition(state);
    const view = this.#view();
    if (state === "COMPLETED") {
      this.#emit({
        type: "result",
        pipeline_id: record.id,
        state,
        content: this.#content,
        artifacts: record.artifacts,
        export: record.export,
        processing_time_ms: view.processing_time_ms ?? 0,
        stages: view.stages,
      });
    } else {
      this.#emit({
        type: "error",
        pipeline_id: record.id,
        error: error?.message ?? state,
        code: error?.code ?? "internal",
      });
    }
    this.#save();
    this.#armAlarm(true);
    this.#fanOut.closeAll("pipeline finished");
    for (const waiter of [...this.#waiters]) waiter();
    this.#logger.info("pipeline finished", { state, processing_time_ms: view.processing_time_ms, error });
    const stages = record.stages
      .filter((stage) => stage.duration_ms !== null)
      .map((stage) => ({ stage: stage.stage, duration_ms: stage.duration_ms ?? 0 }));
    await this.#scheduler(record.pool)
      .pipelineFinished(
        {
          pipeline_id: record.id,
          state,
          latency_ms: now - record.created_at,
          queue_ms: (record.admitted_at ?? now) - record.created_at,
          stages,
          admitted: record.admitted_at !== null,
        },
        this.#takeRelease(),
      )
      .catch((err: unknown) =>
        this.#logger.error("could not tell the scheduler the pipeline finished", { error: err }),
      );
  }

  async #cancelJob(reason: string): Promise<void> {
    const record = this.#record!;
    const job = record.job;
    if (!job) return;
    await this.#scheduler(record.pool)
      .cancelJob(job.job_id, job.attempt, reason)
      .catch((error: unknown) => this.#logger.warn("could not cancel job", { job_id: job.job_id, error }));
  }

  async #purge(): Promise<void> {
    const id = this.#record?.id;
    if (id) {
      const listed = await this.env.ARTIFACTS.list({ prefix: artifactKeys.prefix(id) });
      if (listed.objects.length > 0) await this.env.ARTIFACTS.delete(listed.objects.map((object) => object.key));
    }
    this.#fanOut.closeAll("pipeline expired");
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.#record = null;
  }

  // ---------------------------------------------------------------- helpers

  #takeRelease(): JobRef | undefined {
    const release = this.#unreleased ?? undefined;
    this.#unreleased = null;
    return release;
  }

  #run(task: () => Promise<void>): void {
    task().catch((error: unknown) => this.#logger.error("pipeline task failed", { error }));
  }

  #scheduler(pool: string) {
    return this.env.SCHEDULER.getByName(pool);
  }

  #currentStage(): StageRecord | undefined {
    return this.#record?.stages[this.#record.stage_index];
  }

  #stageHandler(): StageHandler | undefined {
    const stage = this.#currentStage();
    return stage ? STAGE_BY_NAME.get(stage.stage) : undefined;
  }

  #stageContext(): StageContext {
    const record = this.#record!;
    return {
      record,
      env: this.env,
      config: this.#config,
      log: this.#logger.child({ stage: this.#currentStage()?.stage }),
      content: () => this.#content,
      appendContent: (delta) => {
        if (delta === "") return;
        this.#content += delta;
        record.content_chars = this.#content.length;
        this.#emit({ type: "chunk", pipeline_id: record.id, delta, is_final: false });
      },
      finishContent: () => {
        this.#emit({ type: "chunk", pipeline_id: record.id, delta: "", is_final: true });
      },
      emitValidation: (outcome) => {
        this.#emit({ type: "validation", pipeline_id: record.id, outcome });
      },
    };
  }

  /** Brings a loaded record up to date with the progress row its last job events wrote. */
  #applyProgress(record: PipelineRecord): void {
    const row = this.#sql
      .exec("SELECT job_id, attempt, last_seq, content_chars FROM progress WHERE id = 1")
      .toArray()[0];
    const progress = ProgressRow.safeParse(row);
    if (!progress.success || !record.job) return;
    if (record.job.job_id === progress.data.job_id && record.job.attempt === progress.data.attempt) {
      record.job.last_seq = Math.max(record.job.last_seq, progress.data.last_seq);
      record.content_chars = Math.max(record.content_chars, progress.data.content_chars);
    }
  }

  #transition(state: PipelineState): void {
    const record = this.#record!;
    record.state = state;
    record.updated_at = Date.now();
  }

  #emit(event: DistributiveOmit<ClientEvent, "seq">): void {
    const stored = this.#log.append(event);
    const content = stored.type === "chunk" ? this.#content : undefined;
    this.#fanOut.broadcast(stored, content);
  }

  #save(): void {
    const record = this.#record;
    if (!record) return;
    record.updated_at = Date.now();
    this.#sql.exec("INSERT OR REPLACE INTO pipeline (id, body) VALUES (1, ?)", JSON.stringify(record));
  }

  /**
   * Sets the alarm for the next deadline or the clean-up. An alarm already set to ring sooner is
   * left alone unless `exact`: alarm() finds nothing due and sets the next one, and each stage
   * would otherwise cost a write to the namespace's alarm table (the pipeline's next deadline is
   * almost always later than the one before).
   */
  #armAlarm(exact = false): void {
    const record = this.#record;
    if (!record) return;
    const times = [record.stage_deadline_at, record.cleanup_at].filter((t): t is number => t !== null);
    if (times.length === 0) return;
    const at = Math.min(...times);
    if (!exact && this.#alarmAt !== null && this.#alarmAt <= at && this.#alarmAt > Date.now()) return;
    if (this.#alarmAt === at) return;
    this.#alarmAt = at;
    this.ctx.storage.setAlarm(at).catch((error: unknown) => {
      this.#alarmAt = null;
      this.#logger.error("could not set alarm", { error });
    });
  }

  #view(): PipelineView {
    return viewOf(this.#record!, this.#log.lastSeq);
  }
}

function sendError(ws: WebSocket, code: ErrorBody["code"], message: string): void {
  try {
    ws.send(JSON.stringify({ type: "error", error: message, code }));
  } catch {
    closeQuietly(ws, 1011, "send failed");
  }
}

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message))
    .join("; ");
}
