import type {
  ErrorBody,
  GenerateRequest,
  JobEventBody,
  JobKind,
  StageName,
  VerificationRound,
} from "../../../shared/src/index.ts";
import type { EdgeConfig } from "../config.ts";
import type { JobOutcome } from "../jobs/outcome.ts";
import type { EdgeLogger } from "../log.ts";
import type { ArtifactStore } from "./artifact-store.ts";
import type { PipelineRecord, StageRecord } from "./record.ts";
import type { GeneratedFile } from "./split-files.ts";

/** What a stage asks the pipeline to do next. */
export type StageStep =
  /**
   * The stage is done; `patch` is merged into the pipeline's record. `next` runs one more stage
   * right after this one: the rounds of VERIFYING and REPAIRING.
   */
  | { kind: "complete"; patch?: Partial<PipelineRecord>; next?: { stage: StageName; round: number } }
  /**
   * Run a job on a host-agent and wait for its result. `wait` queues it until an agent can take
   * it (up to ATOMIC_AGENT_WAIT_MS); `if-available` gives up at once when none can.
   */
  | {
      kind: "job";
      job: { kind: JobKind; payload: unknown; mode: "wait" | "if-available" };
      /** Merged into the pipeline's record before the job is placed. */
      patch?: Partial<PipelineRecord>;
    }
  | { kind: "fail"; error: ErrorBody; retryable: boolean };

/** What a stage handler sees of its pipeline. */
export interface StageContext {
  readonly record: Readonly<PipelineRecord>;
  readonly env: Env;
  readonly config: EdgeConfig;
  readonly log: EdgeLogger;
  /** The running stage's record (its round, for VERIFYING and REPAIRING). */
  readonly stage: Readonly<StageRecord>;
  /** The text of the running round so far (GENERATING's, or a repair's). */
  content(): string;
  /** Appends generated text and streams it to clients as a chunk. */
  appendContent(delta: string): void;
  /** Sends the seed's closing chunk (`is_final: true`, the whole program). */
  finishContent(): void;
  /** The program's files as VERIFYING or REPAIRING settled them; null before either has. */
  program(): GeneratedFile[] | null;
  /** Settles the program's files; `text` is their text when it is not the running round's. */
  setProgram(files: GeneratedFile[], text: string | null): void;
  /** Where PACKAGING stores the pipeline's artifacts. */
  readonly artifacts: ArtifactStore;
  /** Sends what a verification round found as a `verification` event. */
  emitVerification(round: VerificationRound): void;
}

/**
 * One pipeline stage. Adding a stage is one handler file and one line in `stages/index.ts`, as
 * the seed's "Adding New Pipeline Stages" has it.
 */
export interface StageHandler {
  readonly name: StageName;
  /** Whether a pipeline with this request runs the stage at all. */
  applies(request: GenerateRequest): boolean;
  /** Milliseconds one attempt may take before it counts as timed out (default ATOMIC_STAGE_TIMEOUT_MS). */
  timeoutMs?(config: EdgeConfig): number;
  start(ctx: StageContext): Promise<StageStep>;
  /**
   * No agent took the stage's job: refused at once (`if-available` and no agent free) or its wait
   * ran out. Without a handler the stage fails with `error`, not to be retried.
   */
  onUnavailable?(ctx: StageContext, error: ErrorBody): Promise<StageStep>;
  /** A streamed event of the stage's job. */
  onEvent?(ctx: StageContext, event: JobEventBody): void;
  onResult(ctx: StageContext, outcome: JobOutcome): Promise<StageStep>;
}
