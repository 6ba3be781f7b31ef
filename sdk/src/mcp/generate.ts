import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { ERROR_STATUS } from "../../../shared/src/errors.ts";
import { LIMITS } from "../../../shared/src/limits.ts";
import type { ResultEvent } from "../../../shared/src/protocol/client-events.ts";
import type { AtomicClient } from "../client.ts";
import { AtomicApiError, AtomicConnectionError } from "../errors.ts";
import { describeError, guard, toolError, type Log } from "./errors.ts";
import { boundedFiles, ResultFile, type FileLimits } from "./files.ts";
import { ProgressReporter } from "./progress.ts";

const input = {
  prompt: z
    .string()
    .trim()
    .min(1)
    .max(LIMITS.promptMaxChars)
    .describe("What to build, in plain words: the program, its behaviour, inputs and outputs, constraints."),
  language: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .describe(
      "The programming language (python, javascript, typescript, …). Verification runs for python, javascript and typescript.",
    ),
  framework: z.string().min(1).max(64).optional().describe("A framework or library to use (express, fastapi, …)."),
  verify: z
    .boolean()
    .default(true)
    .describe(
      "Run the type check and the generated tests in a sandbox and repair the code when they fail (default true). " +
        "`verified: true` in the result means the tests ran and passed.",
    ),
  max_repairs: z
    .number()
    .int()
    .min(0)
    .max(LIMITS.maxRepairs)
    .optional()
    .describe("Repair rounds allowed after failing tests (default 2)."),
};

const TestCounts = z.object({ passed: z.number(), failed: z.number(), skipped: z.number() });

const output = {
  pipeline_id: z.string().describe("get_pipeline and cancel_pipeline take it"),
  state: z.string(),
  verified: z.boolean().describe("true only when the final files' tests ran in the sandbox and passed"),
  verification: z
    .object({
      status: z.enum(["passed", "failed", "skipped"]),
      repairs: z.number(),
      max_repairs: z.number(),
      tests: TestCounts.nullable(),
      failures: z.array(z.object({ name: z.string(), message: z.string() })),
      skipped_reason: z.string().optional(),
      note: z.string().optional(),
    })
    .nullable()
    .describe("null when verification was not asked for"),
  files: z.array(ResultFile),
  files_note: z.string().optional().describe("what was left out of `files`, and where to download it"),
  processing_time_ms: z.number(),
};
type Output = z.infer<z.ZodObject<typeof output>>;

const DESCRIPTION = [
  "Generate a program with Atomic Orchestrator's LLM pipeline and, by default, verify it: the pipeline writes",
  "the code and its tests, runs them in a sandbox and repairs failures. Returns the verdict (verified, test",
  "counts, repairs) and the generated files (path and content; very large files are listed without content).",
  "Takes from seconds to minutes: progress notifications report the stage and the tokens so far.",
  "Cancelling the call cancels the pipeline. Write the files yourself where they belong.",
].join(" ");

/** One line for the agent before the JSON: the verdict and the files. */
function summary(result: Output): string {
  const files = `${result.files.length} file(s): ${result.files.map((f) => f.path).join(", ")}`;
  const v = result.verification;
  if (v === null) return `Pipeline ${result.pipeline_id} ${result.state}, not verified (not asked). ${files}.`;
  const tests = v.tests === null ? "no tests ran" : `${v.tests.passed} passed, ${v.tests.failed} failed`;
  const why = v.skipped_reason === undefined ? "" : ` (${v.skipped_reason})`;
  return `Pipeline ${result.pipeline_id} ${result.state}, verification ${v.status}${why}: ${tests}, ${v.repairs} repair(s). ${files}.`;
}

async function structured(
  client: AtomicClient,
  event: ResultEvent,
  signal: AbortSignal,
  limits: FileLimits,
): Promise<Output> {
  const { files, note } = await boundedFiles(client, event.pipeline_id, event.artifacts?.files ?? [], {
    signal,
    limits,
  });
  const v = event.verification;
  return {
    pipeline_id: event.pipeline_id,
    state: event.state,
    verified: event.verified,
    verification:
      v === null
        ? null
        : {
            status: v.status,
            repairs: v.repairs,
            max_repairs: v.max_repairs,
            tests: v.tests,
            failures: v.rounds.at(-1)?.failures ?? [],
            ...(v.skipped_reason === undefined ? {} : { skipped_reason: v.skipped_reason }),
            ...(v.note === undefined ? {} : { note: v.note }),
          },
    files,
    ...(note === undefined ? {} : { files_note: note }),
    processing_time_ms: event.processing_time_ms,
  };
}

/** `generate_code`: a pipeline followed over the SDK's stream, with progress, answered with its verdict and files. */
export function registerGenerate(server: McpServer, client: AtomicClient, log: Log, limits: FileLimits): void {
  server.registerTool(
    "generate_code",
    { title: "Generate code", description: DESCRIPTION, inputSchema: input, outputSchema: output },
    (args, extra) =>
      guard("generate_code", log, async (): Promise<CallToolResult> => {
        const progress = new ProgressReporter(extra._meta?.progressToken, extra.sendNotification);
        const metadata = {
          stream_mode: "delta" as const,
          verify: args.verify,
          ...(args.language === undefined ? {} : { language: args.language }),
          ...(args.framework === undefined ? {} : { framework: args.framework }),
          ...(args.max_repairs === undefined ? {} : { max_repairs: args.max_repairs }),
        };
        let pipelineId: string | null = null;
        // The client cancelled the call: cancel the pipeline too (the stream itself stops on the signal).
        const onAbort = () => {
          if (pipelineId === null) return;
          log(`generate_code: the client cancelled; cancelling pipeline ${pipelineId}`);
          client.pipelines.cancel(pipelineId).catch(() => undefined);
        };
        extra.signal.addEventListener("abort", onAbort, { once: true });
        try {
          for await (const event of client.stream({ prompt: args.prompt, metadata }, { signal: extra.signal })) {
            pipelineId = event.pipeline_id ?? pipelineId;
            await progress.event(event);
            if (event.type === "error") {
              const error = new AtomicApiError({
                status: ERROR_STATUS[event.code],
                code: event.code,
                message: event.error,
                pipelineId: event.pipeline_id ?? pipelineId,
              });
              return toolError(`the pipeline failed: ${describeError(error)}`);
            }
            if (event.type === "result") {
              const result = await structured(client, event, extra.signal, limits);
              return {
                content: [
                  { type: "text", text: summary(result) },
                  { type: "text", text: JSON.stringify(result) },
                ],
                structuredContent: result,
              };
            }
          }
          throw new AtomicConnectionError("the pipeline's events ended without a result", pipelineId, 0);
        } finally {
          progress.stop();
          extra.signal.removeEventListener("abort", onAbort);
        }
      }),
  );
}
