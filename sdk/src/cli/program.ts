import { Command, CommanderError, Option } from "commander";
import type { Action, CliCommand } from "./command.ts";
import { COMMANDS } from "./commands.ts";
import { createContext } from "./context.ts";
import { EXIT, exitCodeOf } from "./exit-codes.ts";
import { VERSION } from "./version.ts";

/** The `atomic` program: the global options and every command of `commands`. */
export function createProgram(commands: readonly CliCommand[] = COMMANDS): { program: Command; exitCode(): number } {
  let exitCode: number = EXIT.ok;
  const program = new Command("atomic")
    .description("Atomic Orchestrator from the terminal: generate code, follow, list, cancel pipelines, run code")
    .version(VERSION, "-V, --version")
    .addOption(new Option("--url <url>", "where the edge listens").env("ATOMIC_URL").default("http://localhost:8080"))
    .addOption(new Option("--api-key <key>", "a key of the edge's ATOMIC_API_KEYS").env("ATOMIC_API_KEY"))
    .option("--json", "print the answer as JSON on stdout, and nothing else there")
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showHelpAfterError("(atomic --help lists the commands; atomic <command> --help their options)")
    // Usage errors end in a CommanderError (exit code 2, not commander's 1); set before the commands copy it.
    .exitOverride();
  const act =
    (action: Action) =>
    async (...args: unknown[]): Promise<void> => {
      const command = args.at(-1) as Command;
      const context = createContext(command);
      try {
        exitCode = await action(context, command);
      } catch (error) {
        context.fail(error);
        exitCode = exitCodeOf(error);
      }
    };
  for (const command of commands) command.declare(program, act);
  return { program, exitCode: () => exitCode };
}

/** Runs `atomic` with `argv` (as process.argv: node, script, args…) and answers its exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const { program, exitCode } = createProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // --help and --version end here too, with exit code 0.
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  return exitCode();
}
