import { runMcpServer } from "../../mcp/server.ts";
import type { CliCommand } from "../command.ts";
import { EXIT } from "../exit-codes.ts";
import { VERSION } from "../version.ts";

/**
 * `atomic mcp`: a Model Context Protocol server on stdin/stdout for coding agents, talking to the
 * edge of `--url` with `--api-key`. stdout is the protocol's: the command prints nothing else, and
 * ends when its input does.
 */
export const mcp: CliCommand = {
  declare(program, act) {
    program
      .command("mcp")
      .description(
        "serve the Model Context Protocol on stdio (tools: generate_code, execute_code, get_pipeline, list_pipelines, cancel_pipeline)",
      )
      .action(
        act(async (context) => {
          await runMcpServer({ client: context.client, version: VERSION });
          return EXIT.ok;
        }),
      );
  },
};
