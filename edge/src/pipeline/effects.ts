import type { ClientEvent, ErrorBody, JobEventBody, StageName } from "../../../shared/src/index.ts";
import type { JobRef, JobSpec } from "../jobs/job.ts";
import type { JobOutcome } from "../jobs/outcome.ts";
import type { FinishedPipeline } from "../scheduler/reports.ts";
import type { DistributiveOmit } from "./event-log.ts";
import type { GeneratedFile } from "./split-files.ts";

/** An event to store in the log and then send to every client; chunks carry the running content. */
export type EventDraft = DistributiveOmit<ClientEvent, "seq">;

/**
 * What the pipeline's Durable Object must do after a transition, in order. The machine decides;
 * the object stores, sends, calls and schedules. Effects that run a stage's handler carry the
 * machine's epoch: an answer that comes back after the pipeline moved on is ignored.
 */
export type PipelineEffect =
  | { type: "emit"; event: EventDraft; content?: string }
  | { type: "save" }
  /** Only the small progress row (last event seq and content length), not the whole record. */
  | { type: "save-progress" }
  /** The program's files (and their text when it is not the running round's), stored apart from the record. */
  | { type: "save-program"; files: GeneratedFile[]; text: string | null }
  | { type: "start-stage"; stage: StageName; epoch: number }
  | { type: "stage-event"; stage: StageName; event: JobEventBody }
  | { type: "stage-result"; stage: StageName; outcome: JobOutcome; epoch: number }
  | { type: "stage-unplaced"; stage: StageName; error: ErrorBody; epoch: number }
  | { type: "place-job"; spec: JobSpec; epoch: number }
  | { type: "cancel-job"; job: JobRef; reason: string }
  | { type: "set-alarm"; at: number }
  | { type: "purge" }
  /** Deliver the completion webhook now (its record says where and which attempt). */
  | { type: "deliver-webhook" }
  | { type: "finished"; summary: FinishedPipeline };
