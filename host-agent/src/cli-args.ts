import { parseArgs } from "node:util";
import { HostAgentEnv } from "./config.ts";
import { settingHelp } from "./env-setting.ts";
import { SAME_STOP_WINDOW_MS } from "./stop-signals.ts";

/** What the command line asks for. Settings are environment variables; the flags only inform. */
export type CliRequest = { kind: "run" } | { kind: "help" } | { kind: "version" } | { kind: "error"; message: string };

const OPTIONS = {
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

/**
 * Reads the arguments after `atomic-host-agent`. Anything but `-h`/`--help` and `--version` is an
 * error that names it: a mistyped flag must not start an agent that takes jobs.
 */
export function readCliArgs(args: readonly string[]): CliRequest {
  // Not strict: parseArgs' own errors are paragraphs; this names the offending word in one line.
  const { tokens } = parseArgs({
    args: [...args],
    options: OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  let help = false;
  let version = false;
  for (const token of tokens) {
    if (token.kind === "option-terminator") continue;
    if (token.kind === "positional") {
      return { kind: "error", message: `unexpected argument "${token.value}": settings are ATOMIC_* variables` };
    }
    if (token.name !== "help" && token.name !== "version") {
      return { kind: "error", message: `unknown option ${token.rawName} (it takes --help and --version)` };
    }
    if (token.inlineValue === true) return { kind: "error", message: `${token.rawName} takes no value` };
    if (token.name === "help") help = true;
    else version = true;
  }
  if (help) return { kind: "help" };
  if (version) return { kind: "version" };
  return { kind: "run" };
}

const WIDTH = 100;
const INDENT = "      ";

function wrap(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = indent;
  for (const word of text.split(" ")) {
    if (line.length > indent.length && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = indent;
    }
    line += line.length > indent.length ? ` ${word}` : word;
  }
  lines.push(line);
  return lines;
}

/** The `--help` text. Its list of variables is read from {@link HostAgentEnv}, so it names every one the host-agent reads. */
export function usage(): string {
  const seconds = SAME_STOP_WINDOW_MS / 1000;
  const lines = [
    "Usage: atomic-host-agent [--help | --version]",
    "",
    ...wrap(
      "Links this machine to an Atomic Orchestrator edge (one outgoing WebSocket) and runs the jobs it is " +
        "given: LLM jobs through a Python agent on a Unix socket, generated code in locked-down Docker " +
        "containers, exports to a folder or a local git repository.",
      "",
    ),
    "",
    ...wrap(
      "SIGTERM, SIGINT (Ctrl-C) or SIGHUP drains: no new jobs, running ones finish (or are handed back after " +
        "ATOMIC_DRAIN_TIMEOUT_MS) and their results reach the edge, then it exits 0. Another signal more " +
        `than ${seconds} s after the first stops at once (exit 1); one within ${seconds} s is the same ` +
        "request arriving twice (a terminal signals the whole process group, and npm passes it on too). " +
        "Either way every sandbox container it started is removed.",
      "",
    ),
    "",
    "Options:",
    "  -h, --help     print this help and exit",
    "  --version      print the version and exit",
    "",
    "Environment (a bad value stops it with a line naming the variable, exit code 2):",
  ];
  for (const [name, schema] of Object.entries(HostAgentEnv.shape)) {
    const help = settingHelp.get(schema);
    const shown = help?.shownDefault;
    lines.push(`  ${name}  ${shown === undefined ? "(required)" : `(default: ${shown})`}`);
    lines.push(...wrap(help?.meaning ?? "", INDENT));
  }
  lines.push("", ...wrap("The Docker engine is the one DOCKER_HOST names, as for the docker command.", ""));
  return lines.join("\n") + "\n";
}
