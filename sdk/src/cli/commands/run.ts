import { readFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import { constants } from "node:os";
import { Option } from "commander";
import { SandboxLanguage } from "../../../../shared/src/protocol/sandbox.ts";
import type { CliCommand } from "../command.ts";
import { UsageError } from "../exit-codes.ts";

const BY_EXTENSION: Record<string, SandboxLanguage> = {
  ".py": "python",
  ".js": "javascript",
  ".mjs": "javascript",
  ".cjs": "javascript",
  ".sh": "shell",
};

/** The exit code that tells what ended a run: its own, 124 for a timeout (as timeout(1)), 128+N for signal N. */
function exitCodeOfRun(result: {
  exit_code: number | null;
  signal: string | null;
  timed_out: boolean;
  oom_killed: boolean;
}): number {
  if (result.timed_out) return 124;
  if (result.exit_code !== null) return result.exit_code;
  const signal =
    result.signal === null ? undefined : constants.signals[result.signal as keyof typeof constants.signals];
  if (result.oom_killed) return 128 + constants.signals.SIGKILL;
  return signal === undefined ? 1 : 128 + signal;
}

/** `atomic run FILE [-- args…]`: runs a file in a host-agent's sandbox (POST /api/execute). */
export const run: CliCommand = {
  declare(program, act) {
    program
      .command("run")
      .description("run a file in the sandbox (POST /api/execute); prints its output and exits with its exit code")
      .argument("<file>", "the program (.py, .js, .mjs, .cjs, .sh)")
      .argument("[args...]", "its arguments, after --")
      .addOption(
        new Option("-l, --language <language>", "instead of the file's extension").choices(SandboxLanguage.options),
      )
      .addHelpText(
        "after",
        "\nExit code: the program's own; 124 when it timed out, 128+N when signal N (137: out of memory) ended it.\n\nExample:\n  atomic run script.py -- --name World",
      )
      .action(
        act(async (context, command) => {
          const [file, args = []] = command.processedArgs as [string, string[] | undefined];
          const { language: chosen } = command.opts<{ language?: SandboxLanguage }>();
          const language = chosen ?? BY_EXTENSION[extname(file).toLowerCase()];
          if (language === undefined) {
            throw new UsageError(
              `cannot tell the language of ${file}: --language ${SandboxLanguage.options.join("|")}`,
            );
          }
          const content = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
            throw new UsageError(`cannot read ${file}: ${error.code ?? error.message}`);
          });
          const path = basename(file);
          const answer = await context.client.execute({ language, files: [{ path, content }], entrypoint: path, args });
          if (context.options.json) context.out(JSON.stringify(answer));
          else {
            context.stdout.write(answer.stdout);
            context.stderr.write(answer.stderr);
            const notes = [
              answer.timed_out ? "timed out" : null,
              answer.oom_killed ? "killed: out of memory" : null,
              answer.signal !== null && !answer.oom_killed ? `ended by ${answer.signal}` : null,
              answer.truncated ? "output truncated" : null,
            ].filter((n) => n !== null);
            if (notes.length > 0) context.err(context.errStyle.warn(`atomic: ${notes.join(", ")}`));
          }
          return exitCodeOfRun(answer);
        }),
      );
  },
};
