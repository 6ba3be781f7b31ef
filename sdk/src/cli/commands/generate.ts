import { InvalidArgumentError, Option } from "commander";
import type { GenerateInput } from "../../client.ts";
import type { CliCommand } from "../command.ts";
import { watchPipeline } from "../watch.ts";

interface GenerateOptions {
  language?: string;
  framework?: string;
  verify?: boolean;
  maxRepairs?: number;
  priority?: "low" | "normal" | "high";
  out?: string;
  detach?: boolean;
}

function count(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("a whole number, 0 or more");
  return Number(value);
}

/** `atomic generate "prompt"`: runs a pipeline and shows it live; the verdict and the files at the end. */
export const generate: CliCommand = {
  declare(program, act) {
    program
      .command("generate")
      .description("generate code from a prompt: the tokens live, then the verdict and where the files went")
      .argument("<prompt>", "what to build")
      .option("-l, --language <language>", "python, typescript, javascript, …")
      .option("-f, --framework <framework>", "express, fastapi, …")
      .option("--verify", "test the program in the sandbox and repair it (exit code 3 when it ends unverified)")
      .option("--max-repairs <n>", "repair rounds after failed tests (default 2)", count)
      .addOption(new Option("--priority <priority>", "its place in the queue").choices(["low", "normal", "high"]))
      .option("-o, --out <dir>", "write the files there (checked against the manifest's sha256)")
      .option("--detach", "Ctrl-C leaves the pipeline running (and prints how to follow it) instead of cancelling it")
      .addHelpText(
        "after",
        `
Ctrl-C cancels the pipeline (with --detach: leaves it running); a second Ctrl-C exits at once.
On a terminal the tokens stream above one progress line; piped (or with NO_COLOR) the progress
goes to stderr as plain lines and stdout gets the final program; --json prints the result only.

Examples:
  atomic generate "A CLI that counts words" --language python --verify --out wc
  atomic generate "Fibonacci in TypeScript" --json | jq .verification`,
      )
      .action(
        act(async (context, command) => {
          const [prompt] = command.args as [string];
          const options = command.opts<GenerateOptions>();
          const metadata: NonNullable<GenerateInput["metadata"]> = {};
          if (options.language !== undefined) metadata.language = options.language;
          if (options.framework !== undefined) metadata.framework = options.framework;
          if (options.verify) metadata.verify = true;
          if (options.maxRepairs !== undefined) metadata.max_repairs = options.maxRepairs;
          const request: GenerateInput = { prompt, metadata };
          if (options.priority !== undefined) request.priority = options.priority;
          return watchPipeline(
            context,
            { pipelineId: null, events: (signal) => context.client.stream(request, { signal }) },
            options.detach ? "detach" : "cancel",
            options.out,
          );
        }),
      );
  },
};
