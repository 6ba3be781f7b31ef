import {
  ExportPayload,
  GeneratePayload,
  GenerateResult,
  ParsePayload,
  ParseResult,
  ExecuteRequest,
} from "../../../shared/src/index.ts";
import type { ExecuteResult, JobKind } from "../../../shared/src/index.ts";
import { exportToFilesystem } from "../export/filesystem-export.ts";
import { fetchFiles } from "../export/fetch-files.ts";
import { exportToGit } from "../export/git-export.ts";
import type { LlmClient } from "../ipc/index.ts";
import { resultRoom } from "../link/frame-size.ts";
import { fitExecuteResult } from "./fit-execute-result.ts";
import { JobFailure, toJobError } from "./job-failure.ts";
import type { JobHandler } from "./job-runner.ts";

/** What the LLM handlers need of the LLM client. */
type LlmCalls = Pick<LlmClient, "refreshHealth" | "parse" | "generate">;

/** What the sandbox handler needs of the Docker sandbox. */
export interface SandboxRunner {
  execute(request: ExecuteRequest, options: { signal?: AbortSignal }): Promise<ExecuteResult>;
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
      let chars = 0;
      const result = await withFreshHealth(deps.llm, () =>
        deps.llm.generate(payload, {
          signal: ctx.signal,
          onChunk: (delta) => {
            chars += delta.length;
            ctx.token(delta);
          },
        }),
      );
      const answer = parsePayload(GenerateResult, result, "the LLM agent's generate answer");
      if (answer.chars !== chars) {
        throw new JobFailure(
          "llm_error",
          `the LLM agent streamed ${chars} characters but reported ${answer.chars}`,
          true,
        );
      }
      return answer;
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
  }
  return handlers;
}
