import type { CliCommand } from "../command.ts";
import { EXIT } from "../exit-codes.ts";

/** `atomic cancel ID`. */
export const cancel: CliCommand = {
  declare(program, act) {
    program
      .command("cancel")
      .description("cancel a pipeline and its running job (exit code 1 when it already ended)")
      .argument("<id>", "the pipeline")
      .action(
        act(async (context, command) => {
          const [id] = command.args as [string];
          const answer = await context.client.pipelines.cancel(id);
          if (context.options.json) context.out(JSON.stringify(answer));
          else context.out(`pipeline ${answer.pipeline_id}: ${answer.state}`);
          return EXIT.ok;
        }),
      );
  },
};
