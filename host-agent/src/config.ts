import { hostname } from "node:os";
import { resolve } from "node:path";
import { z } from "zod";
import { Labels, PoolName } from "../../shared/src/index.ts";
import { envInt, envSetting } from "./env-setting.ts";
import { parseLogLevel } from "./log.ts";
import { defaultsAboveMaxima, SandboxEnv } from "./sandbox/limits.ts";

/** `k=v,k2=v2` → `{k: "v", k2: "v2"}`. */
const LabelList = z.string().transform((raw, ctx) => {
  const labels: Record<string, string> = {};
  for (const part of raw
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf("=");
    if (eq <= 0) {
      ctx.addIssue({ code: "custom", message: `must be key=value pairs separated by commas; "${part}" is not` });
      return z.NEVER;
    }
    labels[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  const parsed = Labels.safeParse(labels);
  if (!parsed.success) {
    ctx.addIssue({
      code: "custom",
      message: "must be key=value pairs with names of 1-63 of [a-zA-Z0-9_.-] and values of at most 128 characters",
    });
    return z.NEVER;
  }
  return parsed.data;
});

/** The edge's address: the link dials it as ws(s)://, artifacts are fetched from it over http(s)://. */
const EdgeUrl = z.string().refine(
  (raw) => {
    try {
      const url = new URL(raw);
      return url.protocol === "http:" || url.protocol === "https:";
    } catch {
      // Not a URL at all: the message below says what is.
      return false;
    }
  },
  { message: "must be an http:// or https:// URL such as http://localhost:8080" },
);

const LogLevelName = z.string().transform((raw, ctx) => {
  const level = parseLogLevel(raw);
  if (!level) {
    ctx.addIssue({ code: "custom", message: "must be DEBUG, INFO, WARN, ERROR or SILENT" });
    return z.NEVER;
  }
  return level;
});

const THIS_HOST =
  hostname()
    .replace(/[^A-Za-z0-9_.-]/g, "-")
    .slice(0, 64) || "host-agent";

/**
 * The host-agent's whole configuration, parsed once from the environment at start-up. A bad value
 * stops it with one line per bad variable, naming it and what it takes. `--help` lists these
 * variables from this schema (see cli-args.ts), so the two cannot drift apart.
 */
export const HostAgentEnv = z
  .object({
    ATOMIC_EDGE_URL: envSetting(
      { meaning: "the edge it dials: an http:// or https:// URL", fallback: "http://localhost:8080" },
      EdgeUrl,
    ),
    ATOMIC_AGENT_TOKEN: envSetting(
      { meaning: "the token the edge was given to admit host-agents", fallback: undefined },
      z.string(),
    ),
    ATOMIC_AGENT_ID: envSetting(
      {
        meaning: "its name at the edge; a second process with the same id replaces the first",
        fallback: THIS_HOST,
        shownDefault: `this machine's hostname (${THIS_HOST})`,
      },
      z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be 1-64 of [A-Za-z0-9_.-]"),
    ),
    ATOMIC_POOL: envSetting(
      { meaning: "the scheduler pool it serves", fallback: "default" },
      z.string().refine((raw) => PoolName.safeParse(raw).success, "must be 1-63 of [a-z0-9-], not starting with -"),
    ),
    ATOMIC_AGENT_LABELS: envSetting(
      {
        meaning: "labels such as gpu=a100,region=eu; requests route by metadata.labels",
        fallback: "",
        shownDefault: "none",
      },
      LabelList,
    ),
    ATOMIC_THREADS: envInt("jobs it runs at once", 4, 1, 10_000),
    ATOMIC_IPC_SOCKET: envSetting(
      { meaning: "the Python LLM agent's Unix socket", fallback: "/tmp/atomic_llm_agent.sock" },
      z.string(),
    ),
    ATOMIC_IPC_POOL_SIZE: envInt("connections to the Python agent", 4, 1, 256),
    ATOMIC_IPC_TIMEOUT_MS: envInt("deadline of one request to the Python agent, ms", 300_000, 100, 86_400_000),
    ATOMIC_IPC_HEALTH_MS: envInt("how often the Python agent's health is checked, ms", 2_000, 100, 600_000),
    ATOMIC_EXPORT_DIR: envSetting(
      {
        meaning: "where exports land, from the working directory; nothing is written outside it",
        fallback: "./exports",
      },
      z.string().transform((dir) => resolve(dir)),
    ),
    ATOMIC_LOG_LEVEL: envSetting(
      { meaning: "DEBUG, INFO, WARN, ERROR or SILENT; JSON lines on stderr", fallback: "INFO" },
      LogLevelName,
    ),
    ATOMIC_DRAIN_TIMEOUT_MS: envInt(
      "on SIGTERM or Ctrl-C: how long running jobs may take to finish before they are handed back, ms",
      30_000,
      0,
      3_600_000,
    ),
    ATOMIC_TOKEN_FLUSH_MS: envInt("generated text is batched into events this often, ms", 10, 0, 1000),
    ATOMIC_OUTBOX_MAX_FRAMES: envInt(
      "events and results kept until the edge acks them; past it, the job whose frame does not fit is handed back to run again",
      10_000,
      16,
      10_000_000,
    ),
    ATOMIC_OUTBOX_MAX_BYTES: envInt(
      "bytes of events and results kept until the edge acks them (at least two agent-link frames); past it, as above",
      33_554_432,
      1_048_576,
      4_294_967_296,
    ),
    ATOMIC_SANDBOX: envSetting(
      { meaning: "auto, or off to run no sandbox jobs even where Docker answers", fallback: "auto" },
      z.enum(["auto", "off"], { error: "must be auto or off" }),
    ),
    ...SandboxEnv.shape,
  })
  .superRefine((env, ctx) => {
    for (const { fallback, ceiling, maximum } of defaultsAboveMaxima(env)) {
      ctx.addIssue({
        code: "custom",
        path: [fallback],
        message: `must be at most ${ceiling} (${maximum}): raise the maximum or lower the default`,
      });
    }
  });
export type HostAgentConfig = z.infer<typeof HostAgentEnv>;

/** Variables whose value must not be echoed back in an error. */
const SECRET = new Set<string>(["ATOMIC_AGENT_TOKEN"]);

/** A configuration that does not parse: `problems` holds one line per bad variable. */
export class ConfigError extends Error {
  override name = "ConfigError";
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid configuration: ${problems.join("; ")}`);
    this.problems = problems;
  }
}

/** Parses the environment; throws a {@link ConfigError} with a line for every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): HostAgentConfig {
  const parsed = HostAgentEnv.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? "");
    const raw = env[name];
    const shown =
      raw === undefined || raw === "" || SECRET.has(name) ? "" : ` (got ${JSON.stringify(raw.slice(0, 80))})`;
    return `${name} ${issue.message}${shown}`;
  });
  throw new ConfigError(problems);
}
