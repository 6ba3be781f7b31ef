import type { ErrorBody, JobEventBody, PipelineState, StageName, WebhookAttempt } from "../../../shared/src/index.ts";
import { FINAL_STATES } from "../../../shared/src/index.ts";
import type { JobRef, JobSpec } from "../jobs/job.ts";
import { isTracked, trackedStatus, trackEvent, trackResult } from "../jobs/job-tracker.ts";
import type { EventAck, JobOutcome, JobStatus, ResultAck } from "../jobs/outcome.ts";
import type { EventDraft, PipelineEffect } from "./effects.ts";
import type { PipelineRecord, StageRecord } from "./record.ts";
import type { GeneratedFile } from "./split-files.ts";
import type { StageStep } from "./stage.ts";
import { stageTimings } from "./view.ts";
import { nextAttemptAt } from "../webhooks/retry-schedule.ts";
import { webhookEventType } from "../webhooks/event.ts";

/** The settings the machine decides with. */
export interface MachineSettings {
  /** Retries of a stage's retryable failures (ATOMIC_STAGE_RETRIES). */
  stageRetries: number;
  /** Attempts of a stage at most, agent losses included (ATOMIC_MAX_ATTEMPTS). */
  maxAttempts: number;
  /** How long an attempt of the stage may take. */
  stageTimeoutMs(stage: StageName): number;
  /** How long a job waits for an agent (ATOMIC_AGENT_WAIT_MS). */
  agentWaitMs: number;
  /** How long a finished pipeline is kept (ATOMIC_PIPELINE_RETENTION_HOURS, in ms). */
  retentionMs: number;
  /** The unit of the webhook retry schedule (ATOMIC_WEBHOOK_RETRY_BASE_MS). */
  webhookRetryBaseMs: number;
}

type FinalState = Extract<PipelineState, "COMPLETED" | "FAILED" | "CANCELLED">;
type StageEventStatus = Extract<EventDraft, { type: "stage" }>["status"];

/**
 * One pipeline's state machine (DESIGN §4): `QUEUED → stages in order → COMPLETED`, or `FAILED` /
 * `CANCELLED`, with per-stage deadlines, retries of retryable failures, runs again after a lost
 * agent, and the generated text. Pure: every method changes the record and returns the effects
 * to carry out; nothing here stores, sends or waits.
 */
export class PipelineMachine {
  readonly record: PipelineRecord;
  readonly #settings: MachineSettings;
  /** The text of the running round so far: GENERATING's, or the latest repair's (this attempt). */
  #content: string;
  /**
   * The program's files once a stage settled them (VERIFYING, REPAIRING), and their text when it
   * differs from `#content` (after a repair, or with pinned tests added); null before that.
   */
  #program: { files: GeneratedFile[]; text: string | null } | null;
  /** Bumped on every stage start and at the end: an answer carrying an older epoch is stale. */
  #epoch = 0;
  /** When the alarm last asked for will ring (null: none known to be set). */
  #alarmAt: number | null = null;

  constructor(
    record: PipelineRecord,
    content: string,
    settings: MachineSettings,
    program: { files: GeneratedFile[]; text: string | null } | null = null,
  ) {
    this.record = record;
    this.#content = content;
    this.#settings = settings;
    this.#program = program;
  }

  /** The text of the running round: what its chunks add up to. */
  get content(): string {
    return this.#content;
  }

  /** The program's files as a stage settled them, or null when none has. */
  get programFiles(): GeneratedFile[] | null {
    return this.#program?.files ?? null;
  }

  /** The final text: the program as settled when it differs from the last round's text, else that text. */
  get output(): string {
    return this.#program?.text ?? this.#content;
  }

  get final(): boolean {
    return FINAL_STATES.has(this.record.state);
  }

  /** The stage running now, if any. */
  get stage(): StageRecord | undefined {
    return this.record.stages[this.record.stage_index];
  }

  // ---------------------------------------------------------------- admission

  /** The scheduler took the pipeline into its queue (`position` 0: admitted at once). */
  queued(position: number, now: number): PipelineEffect[] {
    this.#transition("QUEUED", now);
    const record = this.record;
    return [
      { type: "emit", event: { type: "queued", pipeline_id: record.id, priority: record.priority, position } },
      { type: "save" },
    ];
  }

  /** The scheduler gave the pipeline a running slot. */
  admitted(now: number): PipelineEffect[] {
    if (this.record.state !== "QUEUED") return [];
    this.record.admitted_at = now;
    return this.#startStage(0, now);
  }

  // ---------------------------------------------------------------- answers of stage handlers

  /** A stage handler answered with what to do next. */
  stepped(epoch: number, step: StageStep, now: number): PipelineEffect[] {
    if (epoch !== this.#epoch || this.final) return [];
    const stage = this.stage;
    if (!stage) return [];
    if (step.kind === "fail") return this.#failStage(step.error, step.retryable, "error", now);
    if (step.kind === "job") {
      Object.assign(this.record, step.patch ?? {});
      return this.#dispatch(stage, step.job, now);
    }
    Object.assign(this.record, step.patch ?? {});
    if (step.next !== undefined) {
      // A round that asks for another (VERIFYING → REPAIRING → VERIFYING): it runs next.
      const added: StageRecord = {
        stage: step.next.stage,
        status: "pending",
        attempts: 0,
        started_at: null,
        duration_ms: null,
        agent_id: null,
        round: step.next.round,
      };
      this.record.stages.splice(this.record.stage_index + 1, 0, added);
    }
    stage.status = "completed";
    stage.duration_ms = now - (stage.started_at ?? now);
    this.record.stage_deadline_at = null;
    return [
      this.#stageEvent(stage, "completed", { duration_ms: stage.duration_ms }),
      { type: "save" },
      ...this.#startStage(this.record.stage_index + 1, now),
    ];
  }

  /** A stage handler threw: a retryable internal failure of the stage. */
  stageThrew(epoch: number, message: string, now: number): PipelineEffect[] {
    const stage = this.stage?.stage ?? "stage";
    return this.stepped(
      epoch,
      { kind: "fail", error: { code: "internal", message: `${stage} failed: ${message}` }, retryable: true },
      now,
    );
  }

  /** Generated text arrived: it is appended and streamed as a chunk. */
  appendContent(delta: string): PipelineEffect[] {
    if (delta === "") return [];
    this.#content += delta;
    this.record.content_chars = this.#content.length;
    return [
      {
        type: "emit",
        event: { type: "chunk", pipeline_id: this.record.id, delta, is_final: false },
        content: this.#content,
      },
    ];
  }

  /**
   * The seed's closing chunk: `is_final: true`, with the whole content. When the program's text is
   * no longer what the round's chunks add up to (a repair replaced files), the chunk carries it
   * itself, so a replay, a delta-only client and a late follower all end with the final program.
   */
  finishContent(): PipelineEffect[] {
    const text = this.#program?.text ?? null;
    const event: EventDraft =
      text === null
        ? { type: "chunk", pipeline_id: this.record.id, delta: "", is_final: true }
        : { type: "chunk", pipeline_id: this.record.id, delta: "", content: text, is_final: true };
    return [{ type: "emit", event, content: this.output }];
  }

  /** A stage settled the program's files; `text` is their text when it is not the running round's. */
  setProgram(files: GeneratedFile[], text: string | null): PipelineEffect[] {
    this.#program = { files, text };
    return [{ type: "save-program", files, text }];
  }

  emit(event: EventDraft): PipelineEffect[] {
    return [{ type: "emit", event }];
  }

  // ---------------------------------------------------------------- the stage's job

  /** The scheduler answered a placement; only `unavailable` changes anything. */
  placed(epoch: number, job: JobRef, status: "placed" | "queued" | "unavailable"): PipelineEffect[] {
    if (status !== "unavailable") return [];
    return this.unplaced(epoch, job, { code: "no_agent", message: "no host-agent can take this job" });
  }

  /** No agent took the job (refused at once, or its wait ran out): the stage decides what follows. */
  unplaced(epoch: number | null, job: JobRef, error: ErrorBody): PipelineEffect[] {
    const stage = this.stage;
    if ((epoch !== null && epoch !== this.#epoch) || this.final || !stage) return [];
    if (!isTracked(this.record.job, job)) return [];
    this.record.job = null;
    return [{ type: "save" }, { type: "stage-unplaced", stage: stage.stage, error, epoch: this.#epoch }];
  }

  jobEvent(job: JobRef, seq: number, event: JobEventBody): { ack: EventAck; effects: PipelineEffect[] } {
    const ack = trackEvent(this.record.job, job, seq);
    const stage = this.stage;
    if (ack.status !== "stored" || !stage) return { ack, effects: [] };
    // Per event only the small progress row is written; the whole record waits for the next transition.
    return { ack, effects: [{ type: "stage-event", stage: stage.stage, event }, { type: "save-progress" }] };
  }

  jobResult(
    job: JobRef,
    events: number,
    outcome: JobOutcome,
    agentId: string,
  ): { ack: ResultAck; effects: PipelineEffect[] } {
    const tracked = trackResult(this.record.job, job, events);
    const stage = this.stage;
    if (tracked.status === "missing_events") return { ack: tracked, effects: [] };
    if (tracked.status === "stale" || !stage || this.final)
      return { ack: { status: "stale", last_seq: 0 }, effects: [] };
    this.record.job = null;
    if (agentId !== "") stage.agent_id = agentId;
    return {
      ack: { status: "stored", last_seq: tracked.job.last_seq },
      effects: [{ type: "save" }, { type: "stage-result", stage: stage.stage, outcome, epoch: this.#epoch }],
    };
  }

  /** The agent running the job is gone for good: the stage runs again elsewhere. */
  jobLost(job: JobRef, reason: string, now: number): PipelineEffect[] {
    if (!isTracked(this.record.job, job) || this.final) return [];
    this.record.job = null;
    return this.#failStage({ code: "agent_lost", message: reason }, true, "agent", now);
  }

  jobStatus(job: JobRef): JobStatus {
    return trackedStatus(this.record.job, job);
  }

  // ---------------------------------------------------------------- cancel, deadlines, clean-up

  cancel(reason: string, now: number): PipelineEffect[] {
    if (this.final) return [];
    const job = this.record.job;
    return [
      ...(job ? [{ type: "cancel-job", job: refOf(job), reason } as const] : []),
      ...this.#finish("CANCELLED", { code: "cancelled", message: reason }, now),
    ];
  }

  /** The alarm rang: clean up an expired pipeline, fail a stage past its deadline, or set the next alarm. */
  alarm(now: number): PipelineEffect[] {
    this.#alarmAt = null;
    const record = this.record;
    if (record.cleanup_at !== null && now >= record.cleanup_at) return [{ type: "purge" }];
    const webhook = record.webhook;
    if (this.final && webhook?.status === "pending" && webhook.next_at !== null && now >= webhook.next_at) {
      return [{ type: "deliver-webhook" }];
    }
    if (record.stage_deadline_at !== null && now >= record.stage_deadline_at && !this.final) {
      const stage = this.stage?.stage ?? "stage";
      const job = record.job;
      record.job = null;
      return [
        ...(job ? [{ type: "cancel-job", job: refOf(job), reason: "stage deadline passed" } as const] : []),
        ...this.#failStage({ code: "timeout", message: `${stage} did not finish in time` }, true, "error", now),
      ];
    }
    return this.#armAlarm(now, false);
  }

  /**
   * A delivery attempt of the webhook ended: a 2xx delivers it; anything else is retried on the
   * schedule, until the attempts or the pipeline's retention run out.
   */
  webhookAttempted(attempt: WebhookAttempt, now: number): PipelineEffect[] {
    const webhook = this.record.webhook;
    if (!webhook || webhook.status !== "pending") return [];
    webhook.attempts.push(attempt);
    if (attempt.status !== null && attempt.status >= 200 && attempt.status < 300) {
      webhook.status = "delivered";
      webhook.next_at = null;
    } else {
      const giveUpAt = this.record.cleanup_at ?? now;
      webhook.next_at = nextAttemptAt(webhook.attempts.length, now, this.#settings.webhookRetryBaseMs, giveUpAt);
      if (webhook.next_at === null) webhook.status = "failed";
    }
    return [{ type: "save" }, ...this.#armAlarm(now, true)];
  }

  /** Setting the alarm failed: the next transition sets it again. */
  alarmFailed(): void {
    this.#alarmAt = null;
  }

  // ---------------------------------------------------------------- transitions

  #startStage(index: number, now: number): PipelineEffect[] {
    const record = this.record;
    const stage = record.stages[index];
    if (!stage) return this.#finish("COMPLETED", null, now);
    if (record.stage_index !== index) {
      record.stage_index = index;
      record.stage_attempt = 0;
      record.stage_retries = 0;
    }
    record.stage_attempt += 1;
    stage.status = "running";
    stage.attempts = record.stage_attempt;
    stage.started_at ??= now;
    record.stage_deadline_at = now + this.#settings.stageTimeoutMs(stage.stage);
    // A new round of text: GENERATING's first answer, or a repair's.
    if (stage.stage === "GENERATING" || stage.stage === "REPAIRING") this.#content = "";
    this.#transition(stage.stage, now);
    const epoch = ++this.#epoch;
    return [
      this.#stageEvent(stage, "started"),
      { type: "save" },
      ...this.#armAlarm(now, false),
      { type: "start-stage", stage: stage.stage, epoch },
    ];
  }

  #dispatch(stage: StageRecord, job: Extract<StageStep, { kind: "job" }>["job"], now: number): PipelineEffect[] {
    const record = this.record;
    // Rounds of one stage are separate jobs: their attempts count from 1 each.
    const round = stage.round === undefined ? "" : `-${stage.round}`;
    const ref: JobRef = { job_id: `${record.id}/${stage.stage.toLowerCase()}${round}`, attempt: record.stage_attempt };
    record.job = { ...ref, kind: job.kind, last_seq: 0, dispatched_at: now };
    const spec: JobSpec = {
      ...ref,
      owner: { kind: "pipeline", id: record.id },
      pipeline_id: record.id,
      kind: job.kind,
      payload: job.payload,
      labels: record.request.metadata?.labels ?? {},
      priority: record.priority,
      deadline_ms: Math.max(1, (record.stage_deadline_at ?? now + 1000) - now),
      mode: job.mode,
      wait_ms: this.#settings.agentWaitMs,
    };
    return [{ type: "save" }, { type: "place-job", spec, epoch: this.#epoch }];
  }

  #failStage(error: ErrorBody, retryable: boolean, cause: "error" | "agent", now: number): PipelineEffect[] {
    const record = this.record;
    if (this.final) return [];
    const stage = this.stage;
    if (!stage) return this.#finish("FAILED", error, now);
    const retriesLeft = cause === "agent" || record.stage_retries < this.#settings.stageRetries;
    const reason = `${error.code}: ${error.message}`;
    if (retryable && retriesLeft && record.stage_attempt < this.#settings.maxAttempts) {
      if (cause === "error") record.stage_retries += 1;
      const status = cause === "agent" ? "restarted" : "retrying";
      return [this.#stageEvent(stage, status, { reason }), ...this.#startStage(record.stage_index, now)];
    }
    stage.status = "failed";
    stage.duration_ms = now - (stage.started_at ?? now);
    return [this.#stageEvent(stage, "failed", { reason }), ...this.#finish("FAILED", error, now)];
  }

  #finish(state: FinalState, error: ErrorBody | null, now: number): PipelineEffect[] {
    const record = this.record;
    if (this.final) return [];
    this.#epoch++;
    for (const stage of record.stages) {
      // A stage that never started was skipped, however the pipeline ended.
      if (stage.status === "pending") stage.status = "skipped";
      if (stage.status === "running") {
        stage.status = state === "CANCELLED" ? "cancelled" : "failed";
        stage.duration_ms = now - (stage.started_at ?? now);
      }
    }
    record.error = error === null ? null : { code: error.code, message: error.message };
    record.finished_at = now;
    record.stage_deadline_at = null;
    record.job = null;
    record.cleanup_at = now + this.#settings.retentionMs;
    if (record.webhook) {
      // Delivered by the alarm, at once: the pipeline's answers go out first, and every attempt,
      // the first included, has the same place to run and to be retried from.
      record.webhook.delivery_id = `msg_${record.id.replaceAll("-", "")}`;
      record.webhook.event = webhookEventType(state);
      record.webhook.next_at = now;
    }
    this.#transition(state, now);
    const closing: EventDraft =
      state === "COMPLETED"
        ? {
            type: "result",
            pipeline_id: record.id,
            state,
            content: this.output,
            artifacts: record.artifacts,
            export: record.export,
            verified: record.verification?.verified ?? false,
            verification: record.verification,
            processing_time_ms: now - record.created_at,
            stages: stageTimings(record),
          }
        : { type: "error", pipeline_id: record.id, error: error?.message ?? state, code: error?.code ?? "internal" };
    return [
      { type: "emit", event: closing },
      { type: "save" },
      ...this.#armAlarm(now, true),
      {
        type: "finished",
        summary: {
          pipeline_id: record.id,
          state,
          latency_ms: now - record.created_at,
          finished_at: now,
          queue_ms: (record.admitted_at ?? now) - record.created_at,
          admitted: record.admitted_at !== null,
          stages: record.stages.flatMap((stage) =>
            stage.duration_ms === null ? [] : [{ stage: stage.stage, duration_ms: stage.duration_ms }],
          ),
          verification:
            record.verification === null
              ? null
              : { status: record.verification.status, repairs: record.verification.repairs },
        },
      },
    ];
  }

  /**
   * The alarm for the next deadline or the clean-up. An alarm already set to ring sooner is left
   * alone unless `exact`: it finds nothing due and sets the next one, and each stage would
   * otherwise cost a write to the namespace's alarm table (the pipeline's next deadline is almost
   * always later than the one before).
   */
  #armAlarm(now: number, exact: boolean): PipelineEffect[] {
    const webhook = this.record.webhook;
    const times = [
      this.record.stage_deadline_at,
      this.record.cleanup_at,
      webhook?.status === "pending" ? webhook.next_at : null,
    ].filter((t): t is number => t !== null);
    if (times.length === 0) return [];
    const at = Math.min(...times);
    if (!exact && this.#alarmAt !== null && this.#alarmAt <= at && this.#alarmAt > now) return [];
    if (this.#alarmAt === at) return [];
    this.#alarmAt = at;
    return [{ type: "set-alarm", at }];
  }

  /** A `stage` event of the running stage: started, completed, retrying, restarted or failed. */
  #stageEvent(
    stage: StageRecord,
    status: StageEventStatus,
    detail: { duration_ms?: number | null; reason?: string } = {},
  ): PipelineEffect {
    const event: EventDraft = {
      type: "stage",
      pipeline_id: this.record.id,
      stage: stage.stage,
      status,
      attempt: this.record.stage_attempt,
      ...(stage.round !== undefined ? { round: stage.round } : {}),
      ...(detail.duration_ms !== undefined && detail.duration_ms !== null ? { duration_ms: detail.duration_ms } : {}),
      ...(detail.reason !== undefined ? { reason: detail.reason } : {}),
    };
    return { type: "emit", event };
  }

  #transition(state: PipelineState, now: number): void {
    this.record.state = state;
    this.record.updated_at = now;
  }
}

function refOf(job: JobRef): JobRef {
  return { job_id: job.job_id, attempt: job.attempt };
}
