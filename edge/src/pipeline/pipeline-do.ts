import { DurableObject } from "cloudflare:workers";
import type { ErrorBody, GenerateRequest, JobEventBody, PipelineView, StageName } from "../../../shared/src/index.ts";
import { readConfig, type EdgeConfig } from "../config.ts";
import type { JobRef, JobSpec } from "../jobs/job.ts";
import type { EventAck, JobOutcome, JobStatus, ResultAck } from "../jobs/outcome.ts";
import type { JobOwnerApi } from "../jobs/owner.ts";
import { createEdgeLogger, type EdgeLogger } from "../log.ts";
import { mayAccess, type Caller } from "../access/caller.ts";
import { promptLine } from "../scheduler/pipeline-index.ts";
import { closeQuietly } from "../sockets/close-quietly.ts";
import { readClientFrame } from "./client-frames.ts";
import { ClientStreams } from "./client-streams.ts";
import { ContentTracker, EventLog } from "./event-log.ts";
import { FanOut, readAttachment } from "./fan-out.ts";
import { FinishWaiters } from "./finish-waiters.ts";
import { ArtifactStore, type ArtifactLocation, type ArtifactName } from "./artifact-store.ts";
import type { PipelineEffect } from "./effects.ts";
import { PipelineMachine, type MachineSettings } from "./machine.ts";
import { newPipelineRecord } from "./record.ts";
import { PipelineStore } from "./pipeline-store.ts";
import type { StageContext } from "./stage.ts";
import { runStage, stageEvent, stagesFor, stageTimeoutMs } from "./stage-runner.ts";
import { viewOf } from "./view.ts";
import { deliverWebhook } from "../webhooks/deliver.ts";
import { webhookEvent } from "../webhooks/event.ts";
import { webhookSecret, webhookTarget } from "../webhooks/settings.ts";

export interface CreatePipeline {
  id: string;
  request_id: string;
  request: GenerateRequest;
  /** The id of the API key that asked for it (never the key); null on an open edge. */
  owner: string | null;
  /** The address the request came to: links in its webhook's event are made absolute against it. */
  origin?: string | null;
}

export type CreateOutcome = { ok: true; view: PipelineView } | { ok: false; error: ErrorBody; retry_after_s?: number };

/**
 * One pipeline (DESIGN §4), named by pipeline id: the shell around its state machine
 * (`machine.ts`). It keeps the record and the append-only event log in SQLite, runs the stages'
 * handlers, talks to the scheduler, serves the client sockets that follow the pipeline, and rings
 * the alarm for deadlines and clean-up. Every event is stored before it is broadcast, so a client
 * that comes back with `after=SEQ` misses nothing and sees nothing twice.
 */
export class PipelineDO extends DurableObject<Env> implements JobOwnerApi {
  #store!: PipelineStore;
  #artifacts: ArtifactStore;
  #log!: EventLog;
  #fanOut: FanOut;
  #streams!: ClientStreams;
  #machine: PipelineMachine | null = null;
  #waiters = new FinishWaiters();
  #config: EdgeConfig;
  #settings: MachineSettings;
  #logger: EdgeLogger;
  /** A webhook attempt is under way: an alarm that rings meanwhile does not start another. */
  #delivering = false;
  /** Set while a job's result is applied: the next job it leads to, kept for the ack (jobResult). */
  #handOff: { next: JobSpec | null } | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#fanOut = new FanOut(ctx);
    const config = readConfig(env);
    this.#config = config;
    this.#artifacts = new ArtifactStore(ctx.storage, env.ARTIFACTS, config.ATOMIC_ARTIFACTS_INLINE_MAX_BYTES);
    this.#settings = {
      stageRetries: config.ATOMIC_STAGE_RETRIES,
      maxAttempts: config.ATOMIC_MAX_ATTEMPTS,
      stageTimeoutMs: (stage) => stageTimeoutMs(stage, config),
      agentWaitMs: config.ATOMIC_AGENT_WAIT_MS,
      retentionMs: Math.round(config.ATOMIC_PIPELINE_RETENTION_HOURS * 3_600_000),
      webhookRetryBaseMs: config.ATOMIC_WEBHOOK_RETRY_BASE_MS,
    };
    this.#logger = createEdgeLogger(config.ATOMIC_LOG_LEVEL, { component: "pipeline" });
    // Keep-alive pings are answered without waking the object from hibernation.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
    ctx.blockConcurrencyWhile(async () => {
      // A new object creates its tables with its first write, not here: a write here would be a
      // commit of its own for every pipeline, and a lookup of an unknown id writes nothing.
      this.#store = new PipelineStore(ctx.storage.sql);
      this.#log = new EventLog(ctx.storage.sql);
      this.#streams = new ClientStreams(ctx, this.#fanOut, this.#log, config.ATOMIC_MAX_SUBSCRIBERS, (ws, message) =>
        this.#onClientFrame(ws, message, "subscribe").catch((error: unknown) =>
          this.#logger.error("could not answer a follower", { error }),
        ),
      );
      const record = this.#store.load(this.#logger);
      if (!record) return;
      const tracker = new ContentTracker();
      for (const event of this.#log.since(0)) tracker.feed(event);
      this.#machine = new PipelineMachine(record, tracker.text, this.#settings, this.#store.loadProgram());
      this.#logger = this.#logger.child({ pipeline_id: record.id, request_id: record.request_id });
    });
  }

  // ---------------------------------------------------------------- RPC: API

  /** Creates the pipeline and puts it in its pool's queue. */
  async create(init: CreatePipeline): Promise<CreateOutcome> {
    if (this.#machine) return { ok: false, error: { code: "conflict", message: `pipeline ${init.id} already exists` } };
    const hook = await webhookTarget(this.#config, init.request.metadata?.webhook, init.owner);
    if (!hook.ok) return { ok: false, error: { code: "invalid_request", message: hook.message } };
    const webhook = hook.target === null ? null : { url: hook.target.url, origin: init.origin ?? null };
    const record = newPipelineRecord({ ...init, webhook }, stagesFor(init.request), Date.now());
    this.#logger = this.#logger.child({ pipeline_id: init.id, request_id: init.request_id });
    const outcome = await this.#scheduler(record.pool).enqueue({
      pipeline_id: init.id,
      priority: record.priority,
      owner: record.owner,
      created_at: record.created_at,
      prompt: promptLine(record.request.prompt),
    });
    if (outcome.status === "full") {
      return {
        ok: false,
        error: { code: "queue_full", message: `the queue of pool ${record.pool} is full; try again later` },
        retry_after_s: outcome.retry_after_s,
      };
    }
    const machine = new PipelineMachine(record, "", this.#settings);
    this.#machine = machine;
    await this.#apply(machine.queued(outcome.position, Date.now()));
    this.#logger.info("pipeline queued", { pool: record.pool, priority: record.priority, position: outcome.position });
    if (outcome.status === "admitted") {
      this.#apply(machine.admitted(Date.now())).catch((error: unknown) =>
        this.#logger.error("pipeline task failed", { error }),
      );
    }
    return { ok: true, view: this.#view(machine) };
  }

  /** The scheduler gives this pipeline a running slot. */
  async admit(): Promise<void> {
    if (this.#machine) await this.#apply(this.#machine.admitted(Date.now()));
  }

  /** The pipeline as `caller` may see it: null when there is none, or it is another key's. */
  async view(caller: Caller): Promise<PipelineView | null> {
    const machine = this.#machine;
    return machine && mayAccess(machine.record.owner, caller) ? this.#view(machine) : null;
  }

  /** Whether the pipeline exists and `caller` may read, follow, cancel and download it. */
  async allows(caller: Caller): Promise<boolean> {
    return this.#machine !== null && mayAccess(this.#machine.record.owner, caller);
  }

  /** Resolves with the final view and content once the pipeline ends, or the current ones after `timeoutMs`. */
  /**
   * Where one of the pipeline's artifacts is, with its bytes when this object holds them; null
   * when there is no such pipeline or `caller` may not see it.
   */
  async artifact(caller: Caller, name: ArtifactName): Promise<ArtifactLocation | null> {
    const record = this.#machine?.record;
    if (!record || !mayAccess(record.owner, caller)) return null;
    return this.#artifacts.locate(name, record.artifacts !== null);
  }

  async waitForFinish(timeoutMs: number): Promise<{ view: PipelineView; content: string } | null> {
    if (!this.#machine) return null;
    if (!this.#machine.final) await this.#waiters.wait(timeoutMs);
    return this.#machine ? { view: this.#view(this.#machine), content: this.#machine.output } : null;
  }

  async cancel(reason: string): Promise<PipelineView | null> {
    const machine = this.#machine;
    if (!machine) return null;
    await this.#apply(machine.cancel(reason, Date.now()));
    return this.#view(machine);
  }

  // ---------------------------------------------------------------- RPC: the jobs of its stages

  async jobEvent(job: JobRef, seq: number, event: JobEventBody): Promise<EventAck> {
    if (!this.#machine) return { status: "stale", last_seq: seq };
    const { ack, effects } = this.#machine.jobEvent(job, seq, event);
    await this.#apply(effects);
    return ack;
  }

  /**
   * A job's result. When it succeeded and the stage that follows needs a job, that job goes back
   * with the ack for the agent link that brought the result to hand to the same agent: the way to
   * the scheduler and back to that link is saved, and the pipeline's slot stays where it was.
   */
  async jobResult(job: JobRef, events: number, outcome: JobOutcome, agentId: string): Promise<ResultAck> {
    if (!this.#machine) return { status: "stale", last_seq: 0 };
    const { ack, effects } = this.#machine.jobResult(job, events, outcome, agentId);
    if (ack.status !== "stored" || !outcome.ok || agentId === "") {
      await this.#apply(effects);
      return ack;
    }
    const handOff: { next: JobSpec | null } = { next: null };
    this.#handOff = handOff;
    try {
      await this.#apply(effects);
    } finally {
      this.#handOff = null;
    }
    return handOff.next === null ? ack : { ...ack, next: handOff.next };
  }

  async jobLost(job: JobRef, reason: string): Promise<void> {
    if (!this.#machine?.jobStatus(job).current) return;
    this.#logger.warn("job lost with its agent", { ...job, reason });
    await this.#apply(this.#machine.jobLost(job, reason, Date.now()));
  }

  async jobUnplaced(job: JobRef, error: ErrorBody): Promise<void> {
    if (this.#machine) await this.#apply(this.#machine.unplaced(null, job, error));
  }

  async jobStatus(job: JobRef): Promise<JobStatus> {
    return this.#machine?.jobStatus(job) ?? { current: false, last_seq: 0 };
  }

  // ---------------------------------------------------------------- client sockets and SSE

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const record = this.#machine?.record ?? null;
    if (url.pathname === "/ws") return this.#streams.acceptSocket(request, url, record);
    if (url.pathname === "/sse") return this.#streams.openSse(url, record);
    return new Response("not found", { status: 404 });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await this.#onClientFrame(ws, message, readAttachment(ws).role);
  }

  /** A frame from a client socket: the prompt of a `/ws/stream` socket, then `ping` or `cancel`. */
  async #onClientFrame(ws: WebSocket, message: string | ArrayBuffer, role: "start" | "subscribe"): Promise<void> {
    const startable = !this.#machine && role === "start";
    const frame = readClientFrame(message, startable, this.#machine?.record.id ?? null);
    if (frame.type === "error") return sendError(ws, frame.code, frame.message);
    if (frame.type === "ping") return ws.send(JSON.stringify({ type: "pong" }));
    if (frame.type === "cancel") {
      await this.cancel("cancelled by client");
      return;
    }
    const attachment = readAttachment(ws);
    const outcome = await this.create({
      id: this.ctx.id.name ?? crypto.randomUUID(),
      request_id: attachment.request_id ?? crypto.randomUUID(),
      request: frame.request,
      owner: attachment.owner ?? null,
    });
    if (!outcome.ok) return sendError(ws, outcome.error.code, outcome.error.message);
    if (frame.request.metadata?.stream_mode === "delta")
      ws.serializeAttachment({ ...readAttachment(ws), delta_only: true });
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    closeQuietly(ws, code === 1005 || code === 1006 ? 1000 : code, reason);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    closeQuietly(ws, 1011, "socket error");
  }

  // ---------------------------------------------------------------- alarm: deadlines and clean-up

  override async alarm(): Promise<void> {
    const machine = this.#machine;
    if (!machine) return;
    const stage = machine.stage;
    if (machine.record.stage_deadline_at !== null && Date.now() >= machine.record.stage_deadline_at && !machine.final) {
      this.#logger.warn("stage deadline passed", { stage: stage?.stage, attempt: machine.record.stage_attempt });
    }
    await this.#apply(machine.alarm(Date.now()));
  }

  // ---------------------------------------------------------------- effects

  async #apply(effects: readonly PipelineEffect[]): Promise<void> {
    for (const effect of effects) await this.#perform(effect);
  }

  /** Carries out the effects that need no answer (store, send, set the alarm), at once. */
  #applyNow(effects: readonly PipelineEffect[]): void {
    const machine = this.#machine;
    if (!machine) return;
    for (const effect of effects) {
      if (effect.type === "emit") this.#fanOut.broadcast(this.#log.append(effect.event), effect.content);
      else if (effect.type === "save") {
        machine.record.updated_at = Date.now();
        this.#store.save(machine.record);
      } else if (effect.type === "save-progress") this.#store.saveProgress(machine.record);
      else if (effect.type === "save-program") this.#store.saveProgram({ files: effect.files, text: effect.text });
      else if (effect.type === "set-alarm") {
        this.ctx.storage.setAlarm(effect.at).catch((error: unknown) => {
          machine.alarmFailed();
          this.#logger.error("could not set alarm", { error });
        });
      } else throw new Error(`effect ${effect.type} needs an answer; apply it with #apply`);
    }
  }

  async #perform(effect: PipelineEffect): Promise<void> {
    const machine = this.#machine;
    if (!machine) return;
    switch (effect.type) {
      case "emit":
      case "save":
      case "save-progress":
      case "save-program":
      case "set-alarm":
        return this.#applyNow([effect]);
      case "start-stage":
      case "stage-result":
      case "stage-unplaced":
        return this.#apply(await runStage(machine, effect, this.#stageContext(machine, effect.stage), this.#logger));
      case "stage-event":
        return stageEvent(effect, this.#stageContext(machine, effect.stage));
      case "place-job": {
        const handOff = this.#handOff;
        if (handOff !== null && handOff.next === null) {
          // Placed by the agent link the result came from (see jobResult), which reports an
          // agent it cannot find with jobUnplaced, as the scheduler would.
          handOff.next = effect.spec;
          return;
        }
        const placed = await this.#scheduler().placeJob(effect.spec);
        return this.#apply(machine.placed(effect.epoch, effect.spec, placed.status));
      }
      case "cancel-job":
        await this.#scheduler()
          .cancelJob(effect.job, effect.reason, { kind: "pipeline", id: machine.record.id })
          .catch((error: unknown) => this.#logger.warn("could not cancel job", { ...effect.job, error }));
        return;
      case "purge":
        return this.#purge(machine.record.id);
      case "deliver-webhook":
        return this.#deliverWebhook(machine);
      case "finished":
        this.#fanOut.closeAll("pipeline finished");
        this.#waiters.releaseAll();
        this.#logger.info("pipeline finished", {
          state: effect.summary.state,
          processing_time_ms: effect.summary.latency_ms,
          error: machine.record.error,
        });
        await this.#scheduler()
          .pipelineFinished(effect.summary)
          .catch((error: unknown) =>
            this.#logger.error("could not tell the scheduler the pipeline finished", { error }),
          );
        return;
    }
  }

  /** One delivery attempt of the completion webhook; the machine schedules what follows. */
  async #deliverWebhook(machine: PipelineMachine): Promise<void> {
    const webhook = machine.record.webhook;
    if (!webhook || webhook.status !== "pending" || webhook.delivery_id === null || this.#delivering) return;
    const event = webhookEvent(machine.record, webhook.origin);
    if (event === null) return;
    this.#delivering = true;
    try {
      const secret = await webhookSecret(this.#config, machine.record.owner);
      const attempt =
        secret === null
          ? {
              at: new Date().toISOString(),
              status: null,
              error: "no signing secret: the operator removed ATOMIC_WEBHOOK_SECRET",
              duration_ms: 0,
            }
          : await deliverWebhook({
              url: webhook.url,
              secret,
              id: webhook.delivery_id,
              body: JSON.stringify(event),
              timeoutMs: this.#config.ATOMIC_WEBHOOK_TIMEOUT_MS,
            });
      this.#logger.info("webhook attempt", { url: webhook.url, status: attempt.status, error: attempt.error });
      await this.#apply(machine.webhookAttempted(attempt, Date.now()));
    } finally {
      this.#delivering = false;
    }
  }

  #stageContext(machine: PipelineMachine, stage: StageName): StageContext {
    // Handlers call these synchronously: what they emit is stored and sent before they go on.
    const now = (effects: PipelineEffect[]) => this.#applyNow(effects);
    return {
      record: machine.record,
      env: this.env,
      config: this.#config,
      log: this.#logger.child({ stage }),
      stage: machine.stage ?? {
        stage,
        status: "running",
        attempts: 0,
        started_at: null,
        duration_ms: null,
        agent_id: null,
      },
      content: () => machine.content,
      appendContent: (delta) => now(machine.appendContent(delta)),
      finishContent: () => now(machine.finishContent()),
      program: () => machine.programFiles,
      setProgram: (files, text) => now(machine.setProgram(files, text)),
      artifacts: this.#artifacts,
      emitVerification: (round) => now(machine.emit({ type: "verification", pipeline_id: machine.record.id, round })),
    };
  }

  async #purge(id: string): Promise<void> {
    await this.#artifacts.purgeRemote(id, this.#machine?.record.artifacts != null);
    this.#fanOut.closeAll("pipeline expired");
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.#machine = null;
  }

  #scheduler(pool = this.#machine?.record.pool ?? "default") {
    return this.env.SCHEDULER.getByName(pool);
  }

  #view(machine: PipelineMachine): PipelineView {
    return viewOf(machine.record, this.#log.lastSeq);
  }
}

function sendError(ws: WebSocket, code: ErrorBody["code"], message: string): void {
  try {
    ws.send(JSON.stringify({ type: "error", error: message, code }));
  } catch {
    closeQuietly(ws, 1011, "send failed");
  }
}
