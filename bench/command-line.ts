/** The command line of a bench script: its options parsed, `--help` answered, a bad option refused. */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";

type Values<T extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ options: T }>>["values"];

/**
 * Parses `options` from the process's arguments. `--help` prints `usage` and exits 0; an unknown
 * or malformed option prints what was wrong and `usage`, and exits 2.
 */
export function commandLine<T extends ParseArgsOptionsConfig>(options: T, usage: string): Values<T> {
  if (process.argv.slice(2).includes("--help")) {
    console.log(usage);
    process.exit(0);
  }
  try {
    return parseArgs({ options }).values;
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`);
    process.exit(2);
  }
}
