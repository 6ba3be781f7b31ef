import type { Command } from "commander";
import type { CliContext } from "./context.ts";

/**
 * What a command's action does: given the context and its own parsed Command (`command.args`,
 * `command.opts()`), it answers the exit code (EXIT in exit-codes.ts). A thrown error is reported
 * and mapped to its exit code by the program.
 */
export type Action = (context: CliContext, command: Command) => Promise<number>;

/**
 * One entry of the command table (commands.ts): `declare` adds the command, its arguments,
 * options and help to `program`, and hands its action to `act`, which runs it with a context.
 */
export interface CliCommand {
  declare(program: Command, act: (action: Action) => (...args: unknown[]) => Promise<void>): void;
}
