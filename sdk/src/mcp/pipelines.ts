import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { PIPELINE_LIST_LIMITS, PipelineList, PipelineView } from "../../../shared/src/protocol/api.ts";
import { PipelineState } from "../../../shared/src/protocol/common.ts";
import type { AtomicClient } from "../client.ts";
import { guard, type Log } from "./errors.ts";

const PipelineId = z.string().trim().min(1).max(200).describe("The pipeline_id generate_code or list_pipelines gave.");

function answer(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify(value) }], structuredContent: value };
}

/** `get_pipeline`, `list_pipelines` and `cancel_pipeline`. */
export function registerPipelines(server: McpServer, client: AtomicClient, log: Log): void {
  server.registerTool(
    "get_pipeline",
    {
      title: "Get a pipeline",
      description:
        "The state of one code-generation pipeline: its state and stage, progress (0 to 1), stage timings, " +
        "verification verdict, artifacts (paths, sizes) and error if it failed.",
      inputSchema: { pipeline_id: PipelineId },
      outputSchema: PipelineView,
      annotations: { readOnlyHint: true },
    },
    (args, extra) =>
      guard("get_pipeline", log, async () =>
        answer(await client.pipelines.get(args.pipeline_id, { signal: extra.signal })),
      ),
  );

  server.registerTool(
    "list_pipelines",
    {
      title: "List pipelines",
      description:
        "Recent code-generation pipelines, newest first: id, state, stage, the prompt's first line, verdict. " +
        "Pass next_cursor back as `cursor` for the next page.",
      inputSchema: {
        state: z
          .union([PipelineState, z.array(PipelineState).min(1)])
          .optional()
          .describe("Only pipelines in this state, or in any of these states (e.g. GENERATING, COMPLETED, FAILED)."),
        limit: z
          .number()
          .int()
          .min(1)
          .max(PIPELINE_LIST_LIMITS.max)
          .optional()
          .describe(`Rows in the page (default ${PIPELINE_LIST_LIMITS.default}).`),
        cursor: z.string().min(1).optional().describe("The next_cursor of the page before."),
      },
      outputSchema: PipelineList,
      annotations: { readOnlyHint: true },
    },
    (args, extra) =>
      guard("list_pipelines", log, async () => answer(await client.pipelines.list({ ...args, signal: extra.signal }))),
  );

  server.registerTool(
    "cancel_pipeline",
    {
      title: "Cancel a pipeline",
      description:
        "Cancel a running code-generation pipeline and the job it runs. A pipeline that already ended is an error.",
      inputSchema: { pipeline_id: PipelineId },
      outputSchema: { pipeline_id: z.string(), state: PipelineState },
      annotations: { destructiveHint: true, idempotentHint: true },
    },
    (args, extra) =>
      guard("cancel_pipeline", log, async () => {
        const { pipeline_id, state } = await client.pipelines.cancel(args.pipeline_id, { signal: extra.signal });
        return answer({ pipeline_id, state });
      }),
  );
}
