import { z } from "zod";

/** Queue priority of a pipeline: HIGH before NORMAL before LOW, FIFO within a level. */
export const Priority = z.enum(["low", "normal", "high"]);
export type Priority = z.infer<typeof Priority>;

/** Pipeline states (DESIGN §4). COMPLETED, FAILED and CANCELLED are final. */
export const PipelineState = z.enum([
  "IDLE",
  "QUEUED",
  "PARSING",
  "GENERATING",
  "VERIFYING",
  "REPAIRING",
  "PACKAGING",
  "EXPORTING",
  "COMPLETED",
  "FAILED",
  "CANCELLED",
]);
export type PipelineState = z.infer<typeof PipelineState>;

export const FINAL_STATES: ReadonlySet<PipelineState> = new Set(["COMPLETED", "FAILED", "CANCELLED"]);

/** Stages are the non-final working states a pipeline passes through. */
export const StageName = z.enum(["PARSING", "GENERATING", "VERIFYING", "REPAIRING", "PACKAGING", "EXPORTING"]);
export type StageName = z.infer<typeof StageName>;

/** Host labels route jobs: `{gpu: "a100", region: "eu"}`. */
export const Labels = z.record(
  z.string().regex(/^[a-zA-Z0-9_.-]{1,63}$/, "label names are 1-63 of [a-zA-Z0-9_.-]"),
  z.string().max(128),
);
export type Labels = z.infer<typeof Labels>;

/** A pool names one SchedulerDO; `default` unless a request names another. */
export const PoolName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "pool names are 1-63 of [a-z0-9-]");

/** Where EXPORTING puts the files: a folder under ATOMIC_EXPORT_DIR, or a local git repository. */
export const ExportTarget = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("filesystem"),
    path: z.string().min(1).max(1024).optional(),
  }),
  z.object({
    type: z.literal("git"),
    repo: z.string().min(1).max(1024).optional(),
    branch: z
      .string()
      .regex(/^[A-Za-z0-9._/-]{1,200}$/, "branch names are 1-200 of [A-Za-z0-9._/-]")
      .optional(),
    message: z.string().min(1).max(4096).optional(),
  }),
]);
export type ExportTarget = z.infer<typeof ExportTarget>;

/** What PARSING makes of a prompt: the brief GENERATING works from. */
export const Requirements = z.object({
  language: z.string().min(1).max(64),
  framework: z.string().max(64).nullable(),
  entry_file: z.string().min(1).max(256),
  summary: z.string().max(2000),
  source: z.enum(["rules", "agent"]),
});
export type Requirements = z.infer<typeof Requirements>;

/** One file of a pipeline's output, as listed in its manifest. */
export const ArtifactFile = z.object({
  path: z.string(),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  language: z.string().nullable(),
});
export type ArtifactFile = z.infer<typeof ArtifactFile>;
