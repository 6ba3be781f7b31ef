import { z } from "zod";
import { LIMITS } from "../limits.ts";
import { utf8Length } from "../utf8.ts";

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

/** Why `path` cannot name a file of a run's workspace, or null when it can. */
function workspacePathProblem(path: string): string | null {
  // A C string ends at NUL: tar would create a shorter name than the one asked for.
  if (path.includes("\0")) return "contains a NUL character";
  if (path.startsWith("/") || path.split("/").includes("..")) return "must be a relative path inside the workspace";
  const bytes = utf8Length(path);
  if (bytes > LIMITS.executePathMaxBytes) {
    return `is ${bytes} bytes in UTF-8; a path may have at most ${LIMITS.executePathMaxBytes}`;
  }
  const name = path.split("/").find((part) => utf8Length(part) > LIMITS.executeNameMaxBytes);
  if (name !== undefined) {
    return `holds a name of ${utf8Length(name)} bytes in UTF-8; a name may have at most ${LIMITS.executeNameMaxBytes}`;
  }
  return null;
}

/**
 * A file's path in a run's workspace, limited in UTF-8 bytes as the file system counts it. The
 * message quotes the path, so a caller with many files knows which one to fix.
 */
const WorkspacePath = z
  .string()
  .min(1)
  .superRefine((path, ctx) => {
    const problem = workspacePathProblem(path);
    if (problem !== null) ctx.addIssue({ code: "custom", message: `${JSON.stringify(path)} ${problem}` });
  });

export const SandboxFile = z.object({
  path: WorkspacePath,
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
    entrypoint: WorkspacePath.optional(),
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
