import {
  ExportPayload,
  GeneratePayload,
  GenerateResult,
  ParsePayload,
  ParseResult,
  ExecuteRequest,
  RepairPayload,
  VerifyPayload,
} from "../../../shared/src/index.ts";
import type { ExecuteResult, JobKind, VerifyReport } from "../../../shared/src/index.ts";
import { exportToFilesystem } from "../export/filesystem-export.ts";
import { fetchFiles } from "../export/fetch-files.ts";
import { exportToGit } from "../export/git-export.ts";
import type { LlmClient } from "../ipc/index.ts";
import { resultRoom } from "../link/frame-size.ts";
import { fitExecuteResult } from "./fit-execute-result.ts";
import { fitVerifyReport } from "./fit-verify-report.ts";
import { JobFailure, toJobError } from "./job-failure.ts";
import type { JobContext, JobHandler } from "./job-runner.ts";

/** What the LLM handlers need of the LLM client. */
type LlmCalls = Pick<LlmClient, "refreshHealth" | "parse" | "generate" | "repair">;

/** What the sandbox handlers need of the Docker sandbox. */
export interface SandboxRunner {
  execute(request: ExecuteRequest, options: { signal?: AbortSignal }): Promise<ExecuteResult>;
  verify(payload: VerifyPayload, options: { signal?: AbortSignal }): Promise<VerifyReport>;
}

function parsePayload<T>(
  schema: {
    safeParse(
      v: unknown,
    ):
      | { success: true; data: T }
      | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } };
  },
  payload: unknown,
  kind: string,
): T {
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new JobFailure(
      "invalid_request",
      `${kind} payload: ${issue ? `${issue.path.join(".")}: ${issue.message}` : "invalid"}`,
      false,
    );
  }
  return parsed.data;
}

/**
 * Runs an LLM call; when it fails because the agent is gone, the agent's health is looked at
 * first, so the edge hears "unavailable" before it hears of the failure and does not place the
 * retry here until the agent is back.
 */
async function withFreshHealth<T>(llm: LlmCalls, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const coded = toJobError(error);
    if (coded.code === "llm_unavailable") await llm.refreshHealth().catch(() => undefined);
    throw error;
  }
}

/**
 * Streams the text of a `generate` or `repair` call as token events, and checks the agent's final
 * answer: a result whose `chars` differ from what arrived means a torn stream (retryable).
 */
async function streamText(
  llm: LlmCalls,
  ctx: JobContext,
  task: "generate" | "repair",
  call: (onChunk: (delta: string) => void) => Promise<unknown>,
): Promise<GenerateResult> {
  let chars = 0;
  const result = await withFreshHealth(llm, () =>
    call((delta) => {
      chars += delta.length;
      ctx.token(delta);
    }),
  );
  const answer = parsePayload(GenerateResult, result, `the LLM agent's ${task} answer`);
  if (answer.chars !== chars) {
    throw new JobFailure("llm_error", `the LLM agent streamed ${chars} characters but reported ${answer.chars}`, true);
  }
  return answer;
}

/** The handler of each job kind this host runs; kinds it cannot run are left out. */
export function createHandlers(deps: {
  llm: LlmCalls;
  sandbox: SandboxRunner | null;
  exportDir: string;
  edgeUrl: string;
  token: string;
}): Partial<Record<JobKind, JobHandler>> {
  const handlers: Partial<Record<JobKind, JobHandler>> = {
    "llm.parse": async (ctx) => {
      const payload = parsePayload(ParsePayload, ctx.job.payload, "llm.parse");
      const result = await withFreshHealth(deps.llm, () => deps.llm.parse(payload, { signal: ctx.signal }));
      return parsePayload(ParseResult, result, "the LLM agent's parse answer");
    },
    "llm.generate": async (ctx) => {
      const payload = parsePayload(GeneratePayload, ctx.job.payload, "llm.generate");
      return streamText(deps.llm, ctx, "generate", (onChunk) =>
        deps.llm.generate(payload, { signal: ctx.signal, onChunk }),
      );
    },
    "llm.repair": async (ctx) => {
      const payload = parsePayload(RepairPayload, ctx.job.payload, "llm.repair");
      return streamText(deps.llm, ctx, "repair", (onChunk) =>
        deps.llm.repair(payload, { signal: ctx.signal, onChunk }),
      );
    },
    export: async (ctx) => {
      const payload = parsePayload(ExportPayload, ctx.job.payload, "export");
      const files = await fetchFiles(payload, deps.edgeUrl, deps.token, ctx.signal);
      ctx.emit({ kind: "progress", message: `downloaded ${files.length} files` });
      const target = payload.target;
      return target.type === "git"
        ? exportToGit(deps.exportDir, payload.pipeline_id, target, files)
        : exportToFilesystem(deps.exportDir, payload.pipeline_id, target.path, files);
    },
  };
  const sandbox = deps.sandbox;
  if (sandbox) {
    handlers["sandbox.execute"] = async (ctx) => {
      const request = parsePayload(ExecuteRequest, ctx.job.payload, "sandbox.execute");
      return fitExecuteResult(await sandbox.execute(request, { signal: ctx.signal }), resultRoom(ctx.job));
    };
    handlers["sandbox.verify"] = async (ctx) => {
      const payload = parsePayload(VerifyPayload, ctx.job.payload, "sandbox.verify");
      return fitVerifyReport(await sandbox.verify(payload, { signal: ctx.signal }), resultRoom(ctx.job));
    };
  }
  return handlers;
}
