import type { Command } from "commander";
import { AtomicClient } from "../client.ts";
import { describeError } from "./exit-codes.ts";
import { styleFor, type Style } from "./style.ts";

/** The options every command takes (`atomic --help`). */
export interface GlobalOptions {
  url: string;
  apiKey?: string | undefined;
  json?: boolean | undefined;
}

/** What a command's action gets: the client of the edge the options name, the output streams and their style. */
export interface CliContext {
  readonly options: GlobalOptions;
  readonly client: AtomicClient;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  /** The style of stdout (the content, tables, the live view). */
  readonly style: Style;
  /** The style of stderr (errors, the plain progress lines). */
  readonly errStyle: Style;
  /** Writes a line to stdout. */
  out(line?: string): void;
  /** Writes a line to stderr. */
  err(line: string): void;
  /** Reports `error` (a line on stderr; with --json also `{"success": false, "error"}` on stdout). */
  fail(error: unknown): void;
}

export function createContext(command: Command): CliContext {
  const options = command.optsWithGlobals<GlobalOptions>();
  const { stdout, stderr } = process;
  const client = new AtomicClient({ baseUrl: options.url, apiKey: options.apiKey || undefined });
  const style = styleFor(stdout, process.env);
  const errStyle = styleFor(stderr, process.env);
  const context: CliContext = {
    options,
    client,
    stdout,
    stderr,
    style,
    errStyle,
    out: (line = "") => void stdout.write(`${line}\n`),
    err: (line) => void stderr.write(`${line}\n`),
    fail: (error) => {
      const { code, message } = describeError(error, options.url);
      context.err(`${errStyle.bad("atomic:")} ${code}: ${message}`);
      if (options.json) {
        const ids = error && typeof error === "object" ? (error as { pipelineId?: unknown; requestId?: unknown }) : {};
        context.out(
          JSON.stringify({
            success: false,
            error: { code, message },
            pipeline_id: typeof ids.pipelineId === "string" ? ids.pipelineId : null,
            request_id: typeof ids.requestId === "string" ? ids.requestId : null,
          }),
        );
      }
    },
  };
  return context;
}
