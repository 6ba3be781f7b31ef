import type { EdgeConfig } from "./config.ts";

type Level = "debug" | "info" | "warn" | "error";
const RANK: Record<EdgeConfig["ATOMIC_LOG_LEVEL"], number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export interface EdgeLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): EdgeLogger;
}

/** Structured JSON logs (one object per line, as Workers Logs index them), filtered by level. */
export function createEdgeLogger(
  level: EdgeConfig["ATOMIC_LOG_LEVEL"],
  base: Record<string, unknown> = {},
): EdgeLogger {
  const emit = (at: Level, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[at] < RANK[level]) return;
    const line = JSON.stringify({ level: at, msg, ...base, ...fields }, (_key, value: unknown) =>
      value instanceof Error ? { name: value.name, message: value.message } : value,
    );
    if (at === "error") console.error(line);
    else if (at === "warn") console.warn(line);
    else console.log(line);
  };
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    child: (fields) => createEdgeLogger(level, { ...base, ...fields }),
  };
}
