import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { LIMITS } from "../../../shared/src/limits.ts";
import { SandboxLanguage } from "../../../shared/src/protocol/sandbox.ts";
import type { AtomicClient, ExecuteInput } from "../client.ts";
import { guard, toolError, type Log } from "./errors.ts";

const input = {
  language: SandboxLanguage.describe("How to run it: python, javascript (Node) or shell (sh)."),
  code: z
    .string()
    .max(LIMITS.executeCodeMaxBytes)
    .optional()
    .describe("A single program's source. Give this or `files`."),
  files: z
    .array(
      z.object({
        path: z.string().min(1).describe("Relative path inside the sandbox's workspace, e.g. src/main.py"),
        content: z.string(),
      }),
    )
    .min(1)
    .max(LIMITS.executeMaxFiles)
    .optional()
    .describe("Several files; the first one runs unless `entrypoint` names another."),
  entrypoint: z.string().min(1).optional().describe("With `files`: the path of the file to run."),
  stdin: z.string().max(LIMITS.executeCodeMaxBytes).optional().describe("Text fed to the program's standard input."),
  args: z.array(z.string().max(4096)).max(64).optional().describe("Command-line arguments."),
  timeout_seconds: z
    .number()
    .positive()
    .optional()
    .describe("Wall-clock limit of the run (the host's default otherwise; a value over its maximum is refused)."),
};

const output = {
  exit_code: z.number().nullable().describe("null when the program was killed (see signal, timed_out, oom_killed)"),
  signal: z.string().nullable(),
  stdout: z.string(),
  stderr: z.string(),
  timed_out: z.boolean(),
  oom_killed: z.boolean(),
  truncated: z.boolean().describe("stdout or stderr was cut at the sandbox's output limit"),
  duration_ms: z.number(),
  execution_id: z.string(),
};

const DESCRIPTION = [
  "Run code in a locked-down, network-less Docker sandbox of an Atomic Orchestrator host-agent and return its",
  "exit code, stdout, stderr and whether it timed out. A program that fails is a normal result (look at",
  "exit_code and stderr); an error result means the run could not happen.",
].join(" ");

/** `execute_code`: one sandbox run (`POST /api/execute`). */
export function registerExecute(server: McpServer, client: AtomicClient, log: Log): void {
  server.registerTool(
    "execute_code",
    { title: "Execute code", description: DESCRIPTION, inputSchema: input, outputSchema: output },
    (args, extra) =>
      guard("execute_code", log, async () => {
        if (args.code === undefined && args.files === undefined) return toolError("give `code` or `files` to run");
        const { timeout_seconds: timeout, ...rest } = args;
        const request: ExecuteInput = timeout === undefined ? rest : { ...rest, limits: { timeout_seconds: timeout } };
        const answer = await client.execute(request, { signal: extra.signal });
        const result = {
          exit_code: answer.exit_code,
          signal: answer.signal,
          stdout: answer.stdout,
          stderr: answer.stderr,
          timed_out: answer.timed_out,
          oom_killed: answer.oom_killed,
          truncated: answer.truncated,
          duration_ms: answer.duration_ms,
          execution_id: answer.execution_id,
        };
        return { content: [{ type: "text", text: JSON.stringify(result) }], structuredContent: result };
      }),
  );
}
