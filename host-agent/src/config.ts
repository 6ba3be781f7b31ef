import { hostname } from "node:os";
import { resolve } from "node:path";
import { z } from "zod";
import { Labels, PoolName } from "../../shared/src/index.ts";
import { parseLogLevel } from "./log.ts";
import { SandboxEnv } from "./sandbox/limits.ts";

function envInt(name: string, fallback: number, min: number, max: number) {
  return z.preprocess(
    (raw) => (raw === undefined || raw === "" ? undefined : raw),
    z.coerce
      .number({ error: `${name} must be a number` })
      .int(`${name} must be a whole number`)
      .min(min, `${name} must be at least ${min}`)
      .max(max, `${name} must be at most ${max}`)
      .default(fallback),
  );
}

const optional = (raw: unknown) => (raw === "" ? undefined : raw);

/** `k=v,k2=v2` → `{k: "v", k2: "v2"}`. */
const LabelList = z
  .string()
  .default("")
  .transform((raw, ctx) => {
    const labels: Record<string, string> = {};
    for (const part of raw
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean)) {
      const eq = part.indexOf("=");
      if (eq <= 0) {
        ctx.addIssue({ code: "custom", message: `ATOMIC_AGENT_LABELS: "${part}" is not key=value` });
        return z.NEVER;
      }
      labels[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
    }
    return labels;
  })
  .pipe(Labels);

/**
 * The host-agent's whole configuration, parsed once from the environment at start-up. A bad value
 * stops it with a message naming the variable.
 */
export const HostAgentEnv = z.object({
  ...SandboxEnv.shape,
  ATOMIC_EDGE_URL: z.preprocess(
    optional,
    z.url({ error: "ATOMIC_EDGE_URL must be a URL like http://localhost:8080" }).default("http://localhost:8080"),
  ),
  ATOMIC_AGENT_TOKEN: z
    .string({ error: "ATOMIC_AGENT_TOKEN is required: the token the edge was given" })
    .min(1, "ATOMIC_AGENT_TOKEN is required"),
  ATOMIC_AGENT_ID: z.preprocess(
    optional,
    z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, "ATOMIC_AGENT_ID must be 1-64 of [A-Za-z0-9_.-]")
      .default(
        hostname()
          .replace(/[^A-Za-z0-9_.-]/g, "-")
          .slice(0, 64) || "host-agent",
      ),
  ),
  ATOMIC_POOL: z.preprocess(optional, PoolName.default("default")),
  ATOMIC_AGENT_LABELS: z.preprocess(optional, LabelList),
  ATOMIC_THREADS: envInt("ATOMIC_THREADS", 4, 1, 10_000),
  ATOMIC_IPC_SOCKET: z.preprocess(optional, z.string().default("/tmp/atomic_llm_agent.sock")),
  ATOMIC_IPC_POOL_SIZE: envInt("ATOMIC_IPC_POOL_SIZE", 4, 1, 256),
  ATOMIC_IPC_TIMEOUT_MS: envInt("ATOMIC_IPC_TIMEOUT_MS", 300_000, 100, 86_400_000),
  ATOMIC_IPC_HEALTH_MS: envInt("ATOMIC_IPC_HEALTH_MS", 2_000, 100, 600_000),
  ATOMIC_EXPORT_DIR: z.preprocess(optional, z.string().default("./exports")).transform((dir) => resolve(dir)),
  ATOMIC_LOG_LEVEL: z.preprocess(
    optional,
    z
      .string()
      .default("INFO")
      .transform((raw, ctx) => {
        const level = parseLogLevel(raw);
        if (!level) {
          ctx.addIssue({ code: "custom", message: "ATOMIC_LOG_LEVEL must be DEBUG, INFO, WARN, ERROR or SILENT" });
          return z.NEVER;
        }
        return level;
      }),
  ),
  ATOMIC_DRAIN_TIMEOUT_MS: envInt("ATOMIC_DRAIN_TIMEOUT_MS", 30_000, 0, 3_600_000),
  ATOMIC_TOKEN_FLUSH_MS: envInt("ATOMIC_TOKEN_FLUSH_MS", 10, 0, 1000),
  /** `off` runs no sandbox jobs even where Docker answers. */
  ATOMIC_SANDBOX: z.preprocess(optional, z.enum(["auto", "off"]).default("auto")),
});
export type HostAgentConfig = z.infer<typeof HostAgentEnv>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses the environment; throws a ConfigError that names every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): HostAgentConfig {
  const parsed = HostAgentEnv.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? "");
      return issue.message.includes(name) ? issue.message : `${name}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${lines.join("\n  ")}`);
  }
  return parsed.data;
}
