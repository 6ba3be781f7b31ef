import { InvalidArgumentError } from "commander";
import type { PipelineSummary } from "../../../../shared/src/protocol/api.ts";
import { PIPELINE_LIST_LIMITS } from "../../../../shared/src/protocol/api.ts";
import { PipelineState } from "../../../../shared/src/protocol/common.ts";
import type { CliCommand } from "../command.ts";
import { EXIT } from "../exit-codes.ts";
import { ago, clip, duration, table } from "../format.ts";

function states(value: string): PipelineState[] {
  const names = value.split(",").map((s) => s.trim().toUpperCase());
  for (const name of names) {
    if (!PipelineState.safeParse(name).success) {
      throw new InvalidArgumentError(`${name} is not a state (${PipelineState.options.join(", ")})`);
    }
  }
  return names as PipelineState[];
}

function limit(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError("a whole number, 1 or more");
  return Number(value);
}

/** `atomic ls`: the caller's recent pipelines, newest first, as a table. */
export const list: CliCommand = {
  declare(program, act) {
    program
      .command("ls")
      .description("list recent pipelines, newest first (GET /api/pipelines)")
      .option("-s, --state <states>", "only these states, comma-separated (e.g. COMPLETED,FAILED)", states)
      .option("-n, --limit <n>", "at most this many rows", limit, PIPELINE_LIST_LIMITS.default)
      .option("-p, --pool <pool>", "the pool (default: default)")
      .action(
        act(async (context, command) => {
          const options = command.opts<{ state?: PipelineState[]; limit: number; pool?: string }>();
          const rows: PipelineSummary[] = [];
          const query = {
            state: options.state,
            pool: options.pool,
            limit: Math.min(options.limit, PIPELINE_LIST_LIMITS.max),
          };
          for await (const row of context.client.pipelines.listAll(query)) {
            rows.push(row);
            if (rows.length >= options.limit) break;
          }
          if (context.options.json) {
            context.out(JSON.stringify(rows));
            return EXIT.ok;
          }
          if (rows.length === 0) {
            context.out("no pipelines");
            return EXIT.ok;
          }
          const now = Date.now();
          const cells = rows.map((row) => [
            row.pipeline_id,
            row.state,
            row.stage ?? "-",
            ago(row.created_at, now),
            row.duration_ms === null ? "-" : duration(row.duration_ms),
            row.verification ?? "-",
            row.prompt,
          ]);
          const lines = table([["PIPELINE", "STATE", "STAGE", "CREATED", "TOOK", "VERIFIED", "PROMPT"], ...cells]);
          const width = context.stdout.isTTY ? (context.stdout.columns ?? 120) : Infinity;
          lines.forEach((line, i) => context.out(i === 0 ? context.style.bold(clip(line, width)) : clip(line, width)));
          return EXIT.ok;
        }),
      );
  },
};
