/**
 * `npm run mcp` (or `node sdk/src/mcp/main.ts`): the Atomic Orchestrator MCP server on stdio, for
 * an MCP client to spawn. ATOMIC_URL (default http://localhost:8080) and ATOMIC_API_KEY say which
 * edge and key; ATOMIC_MCP_MAX_FILE_BYTES and ATOMIC_MCP_MAX_RESULT_BYTES bound the files a
 * generate_code result carries. It logs on stderr only: stdout is the protocol.
 */
import { AtomicClient } from "../client.ts";
import { runMcpServer } from "./server.ts";

function bytes(name: string): number | undefined {
  const value = process.env[name];
  if (value === undefined || value === "") return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`${name} must be a whole number of bytes, not ${value}`);
  return parsed;
}

try {
  const client = new AtomicClient({
    baseUrl: process.env["ATOMIC_URL"] || "http://localhost:8080",
    apiKey: process.env["ATOMIC_API_KEY"] || undefined,
  });
  const fileBytes = bytes("ATOMIC_MCP_MAX_FILE_BYTES");
  const totalBytes = bytes("ATOMIC_MCP_MAX_RESULT_BYTES");
  await runMcpServer({
    client,
    fileLimits: {
      ...(fileBytes === undefined ? {} : { fileBytes }),
      ...(totalBytes === undefined ? {} : { totalBytes }),
    },
  });
} catch (error) {
  process.stderr.write(`atomic mcp: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
