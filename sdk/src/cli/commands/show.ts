import { resolve } from "node:path";
import { writeArtifacts } from "../../node.ts";
import type { CliCommand } from "../command.ts";
import { EXIT } from "../exit-codes.ts";
import { duration, table, verdict } from "../format.ts";

/** `atomic show ID`: one pipeline's state, stages, verdict, files and error; `--out DIR` downloads its files. */
export const show: CliCommand = {
  declare(program, act) {
    program
      .command("show")
      .description("one pipeline: state, stages, verdict, files, error (--out DIR downloads its files)")
      .argument("<id>", "the pipeline")
      .option("-o, --out <dir>", "write its files there (checked against the manifest's sha256)")
      .action(
        act(async (context, command) => {
          const [id] = command.args as [string];
          const { out } = command.opts<{ out?: string }>();
          const pipeline = await context.client.pipelines.get(id);
          const written =
            out !== undefined && pipeline.artifacts !== null ? await writeArtifacts(context.client, id, out) : null;
          if (context.options.json) {
            context.out(JSON.stringify(written === null ? pipeline : { ...pipeline, files: written.files }));
            return EXIT.ok;
          }
          const { style } = context;
          const fields: [string, string][] = [
            ["pipeline", pipeline.pipeline_id],
            ["state", style.bold(pipeline.state)],
            ["stage", pipeline.stage ?? "-"],
            ["progress", `${Math.round(pipeline.progress * 100)}%`],
            ["priority", pipeline.priority],
            ["pool", pipeline.pool],
            ["created", pipeline.created_at],
            ["finished", pipeline.finished_at ?? "-"],
            ["took", pipeline.processing_time_ms === null ? "-" : duration(pipeline.processing_time_ms)],
            ["verdict", verdict(pipeline.verification).text],
          ];
          if (pipeline.error !== null)
            fields.push(["error", style.bad(`${pipeline.error.code}: ${pipeline.error.message}`)]);
          if (pipeline.export !== null) fields.push(["export", `${pipeline.export.type} ${pipeline.export.path}`]);
          for (const [name, value] of fields) context.out(`${`${name}:`.padEnd(10)}${value}`);
          if (pipeline.stages.length > 0) {
            context.out();
            const rows = pipeline.stages.map((s) => [
              `${s.stage}${s.round === undefined ? "" : `#${s.round}`}`,
              s.status,
              String(s.attempts),
              s.duration_ms === null ? "-" : duration(s.duration_ms),
              s.agent_id ?? "-",
            ]);
            for (const line of table([["STAGE", "STATUS", "ATTEMPTS", "TOOK", "AGENT"], ...rows]))
              context.out(`  ${line}`);
          }
          const files = pipeline.artifacts?.files ?? [];
          if (files.length > 0) {
            context.out();
            const rows = files.map((f) => [f.path, `${f.size} B`, f.sha256.slice(0, 12)]);
            for (const line of table([["FILE", "SIZE", "SHA256"], ...rows])) context.out(`  ${line}`);
          }
          if (written !== null) context.out(`\nfiles: ${written.files.length} written to ${resolve(out ?? ".")}`);
          return EXIT.ok;
        }),
      );
  },
};
