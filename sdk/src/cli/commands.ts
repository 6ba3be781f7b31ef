import type { CliCommand } from "./command.ts";
import { cancel } from "./commands/cancel.ts";
import { follow } from "./commands/follow.ts";
import { generate } from "./commands/generate.ts";
import { health } from "./commands/health.ts";
import { list } from "./commands/list.ts";
import { mcp } from "./commands/mcp.ts";
import { run } from "./commands/run.ts";
import { show } from "./commands/show.ts";

/** The command table, in the order `atomic --help` lists it. A new command is a file and a line here. */
export const COMMANDS: readonly CliCommand[] = [generate, follow, list, show, cancel, run, health, mcp];
