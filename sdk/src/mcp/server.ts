import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { Readable, Writable } from "node:stream";
import type { AtomicClient } from "../client.ts";
import type { Log } from "./errors.ts";
import { registerExecute } from "./execute.ts";
import { FILE_LIMITS, type FileLimits } from "./files.ts";
import { registerGenerate } from "./generate.ts";
import { registerPipelines } from "./pipelines.ts";

export interface McpServerOptions {
  /** The edge the tools call. */
  client: AtomicClient;
  /** Where the protocol's requests arrive. Default: process.stdin. */
  stdin?: Readable | undefined;
  /** Where the protocol's answers go; nothing else is written there. Default: process.stdout. */
  stdout?: Writable | undefined;
  /** The server's own log lines. Default: a line on process.stderr each. */
  log?: Log | undefined;
  /** How much generated text a generate_code result carries (default 100 kB a file, 400 kB in all). */
  fileLimits?: Partial<FileLimits> | undefined;
  /** The version the server announces. */
  version?: string | undefined;
}

/**
 * Serves the Atomic Orchestrator tools (generate_code, execute_code, get_pipeline, list_pipelines,
 * cancel_pipeline) over MCP's stdio transport until its input ends. A tool that fails answers a
 * tool error (`isError: true`, naming the problem); the server keeps serving.
 */
export async function runMcpServer(options: McpServerOptions): Promise<void> {
  const stdin = options.stdin ?? process.stdin;
  const log = options.log ?? ((line: string) => process.stderr.write(`atomic mcp: ${line}\n`));
  const server = new McpServer(
    { name: "atomic-orchestrator", version: options.version ?? "0.1.0" },
    {
      instructions:
        "Atomic Orchestrator generates code with an LLM pipeline that tests and repairs it in a sandbox " +
        "(generate_code), runs code in a sandbox (execute_code), and follows or cancels pipelines.",
    },
  );
  registerGenerate(server, options.client, log, { ...FILE_LIMITS, ...options.fileLimits });
  registerExecute(server, options.client, log);
  registerPipelines(server, options.client, log);

  const transport = new StdioServerTransport(stdin, options.stdout ?? process.stdout);
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = resolve;
  });
  transport.onerror = (error) => log(`transport: ${error.message}`);
  // The client closing our input is the end of the session.
  const end = () => void server.close();
  stdin.once("end", end);
  stdin.once("close", end);
  await server.connect(transport);
  log("serving on stdio");
  await closed;
  stdin.off("end", end);
  stdin.off("close", end);
}
