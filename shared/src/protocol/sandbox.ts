import { z } from "zod";
import { LIMITS } from "../limits.ts";

/** Languages the sandbox runs. */
export const SandboxLanguage = z.enum(["python", "javascript", "shell"]);
export type SandboxLanguage = z.infer<typeof SandboxLanguage>;

/**
 * The seed's `ResourceLimits`. Every field is optional in a request: a missing one takes the
 * host's default, and a value above the host's configured maximum is refused.
 */
export const ResourceLimits = z
  .object({
    memory_bytes: z
      .number()
      .int()
      .min(16 * 1024 * 1024),
    cpu_millicores: z.number().int().min(10),
    disk_bytes: z
      .number()
      .int()
      .min(1024 * 1024),
    timeout_seconds: z.number().positive(),
    max_processes: z.number().int().min(1),
  })
  .strict();
export type ResourceLimits = z.infer<typeof ResourceLimits>;

export const SandboxFile = z.object({
  path: z
    .string()
    .min(1)
    .max(256)
    .refine((p) => !p.startsWith("/") && !p.split("/").includes(".."), "must be a relative path inside the workspace"),
  content: z.string(),
});
export type SandboxFile = z.infer<typeof SandboxFile>;

/** Body of `POST /api/execute`, and the payload of a `sandbox.execute` job. */
export const ExecuteRequest = z
  .object({
    language: SandboxLanguage,
    code: z.string().max(LIMITS.executeCodeMaxBytes).optional(),
    files: z.array(SandboxFile).min(1).max(LIMITS.executeMaxFiles).optional(),
    /** With `files`: which one to run (defaults to the first). */
    entrypoint: z.string().min(1).max(256).optional(),
    stdin: z.string().max(LIMITS.executeCodeMaxBytes).optional(),
    args: z.array(z.string().max(4096)).max(64).optional(),
    limits: ResourceLimits.partial().optional(),
  })
  .strict()
  .refine((r) => r.code !== undefined || r.files !== undefined, {
    message: "give `code` or `files`",
    path: ["code"],
  });
export type ExecuteRequest = z.infer<typeof ExecuteRequest>;

/** What one sandbox run produced. */
export const ExecuteResult = z.object({
  exit_code: z.number().int().nullable(),
  signal: z.string().nullable(),
  stdout: z.string(),
  stderr: z.string(),
  truncated: z.boolean(),
  timed_out: z.boolean(),
  oom_killed: z.boolean(),
  duration_ms: z.number().nonnegative(),
});
export type ExecuteResult = z.infer<typeof ExecuteResult>;
