import type { CliCommand } from "../command.ts";
import { watchPipeline } from "../watch.ts";

/** `atomic follow ID`: a pipeline's events from the start, then live, resuming across dropped connections. */
export const follow: CliCommand = {
  declare(program, act) {
    program
      .command("follow")
      .description(
        "follow a pipeline: its events from the start, then live (resumes by itself); its verdict at the end",
      )
      .argument("<id>", "the pipeline")
      .option("-o, --out <dir>", "write its files there once it completed")
      .addHelpText("after", "\nCtrl-C stops following; the pipeline goes on (atomic cancel ID cancels it).")
      .action(
        act(async (context, command) => {
          const [id] = command.args as [string];
          const { out } = command.opts<{ out?: string }>();
          return watchPipeline(
            context,
            { pipelineId: id, events: (signal) => context.client.pipelines.events(id, { after: 0, signal }) },
            "stop",
            out,
          );
        }),
      );
  },
};
