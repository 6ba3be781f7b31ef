import { z } from "zod";
import { parseKeyWebhooks, WebhookSecret } from "./webhooks/settings.ts";

const int = (name: string, fallback: number, min: number, max: number) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int(`${name} must be a whole number`)
    .min(min, `${name} must be at least ${min}`)
    .max(max, `${name} must be at most ${max}`)
    .default(fallback);

const logLevel = z
  .string()
  .default("INFO")
  .transform((raw) => raw.toLowerCase().replace(/^warning$/, "warn"))
  .pipe(
    z.enum(["debug", "info", "warn", "error", "silent"], {
      error: "ATOMIC_LOG_LEVEL must be DEBUG, INFO, WARN, ERROR or SILENT",
    }),
  );

/**
 * Every setting of the edge, read from `wrangler.toml` `[vars]` and secrets. Parsed once per
 * isolate; a bad value answers every request with a 500 that names the variable.
 */
export const EdgeConfigSchema = z.object({
  ATOMIC_LOG_LEVEL: logLevel,
  ATOMIC_CORS_ORIGINS: z.string().default("*"),
  ATOMIC_MAX_QUEUE_SIZE: int("ATOMIC_MAX_QUEUE_SIZE", 1000, 1, 1_000_000),
  ATOMIC_MAX_CONCURRENT: int("ATOMIC_MAX_CONCURRENT", 10, 1, 100_000),
  /**
   * Pipelines one API key may run at once per pool (0: no cap beyond ATOMIC_MAX_CONCURRENT). Keys
   * take turns for free slots either way; a cap also keeps slots free for keys yet to come.
   */
  ATOMIC_MAX_RUNNING_PER_KEY: int("ATOMIC_MAX_RUNNING_PER_KEY", 0, 0, 100_000),
  ATOMIC_AGENT_WAIT_MS: int("ATOMIC_AGENT_WAIT_MS", 30_000, 0, 3_600_000),
  ATOMIC_STAGE_TIMEOUT_MS: int("ATOMIC_STAGE_TIMEOUT_MS", 300_000, 100, 86_400_000),
  ATOMIC_STAGE_RETRIES: int("ATOMIC_STAGE_RETRIES", 2, 0, 20),
  ATOMIC_AGENT_GRACE_MS: int("ATOMIC_AGENT_GRACE_MS", 10_000, 0, 3_600_000),
  ATOMIC_HEARTBEAT_MS: int("ATOMIC_HEARTBEAT_MS", 5_000, 100, 600_000),
  ATOMIC_MAX_BODY_BYTES: int("ATOMIC_MAX_BODY_BYTES", 1_048_576, 1024, 104_857_600),
  ATOMIC_MAX_SUBSCRIBERS: int("ATOMIC_MAX_SUBSCRIBERS", 2_000, 1, 32_000),
  /** Hours, fractions allowed (0.01 is 36 s: short enough to watch clean-up happen in a test or a soak). */
  ATOMIC_PIPELINE_RETENTION_HOURS: z.coerce
    .number({ error: "ATOMIC_PIPELINE_RETENTION_HOURS must be a number" })
    .min(0.001, "ATOMIC_PIPELINE_RETENTION_HOURS must be at least 0.001 (3.6 s)")
    .max(24 * 365, `ATOMIC_PIPELINE_RETENTION_HOURS must be at most ${24 * 365}`)
    .default(24),
  /**
   * Bytes up to which a pipeline's artifacts (measured by their tar bundle) stay in its own
   * storage rather than in R2; 0 puts every pipeline's in R2. At most 1 MiB: a stored value of a
   * Durable Object is at most 2 MB.
   */
  ATOMIC_ARTIFACTS_INLINE_MAX_BYTES: int("ATOMIC_ARTIFACTS_INLINE_MAX_BYTES", 1_048_576, 0, 1_048_576),
  ATOMIC_IDEMPOTENCY_TTL_S: int("ATOMIC_IDEMPOTENCY_TTL_S", 86_400, 1, 30 * 86_400),
  ATOMIC_MAX_ATTEMPTS: int("ATOMIC_MAX_ATTEMPTS", 5, 1, 100),
  /** The most repair rounds a verified pipeline gets, whatever its `metadata.max_repairs` asks. */
  ATOMIC_MAX_REPAIRS: int("ATOMIC_MAX_REPAIRS", 5, 0, 10),
  /** How long an `/api/execute` run may take beyond its `timeout_seconds` (container start, output transfer). */
  ATOMIC_EXECUTE_SLACK_MS: int("ATOMIC_EXECUTE_SLACK_MS", 30_000, 0, 3_600_000),
  /** Secret. The bearer token host-agents present on `/agent/connect`. */
  ATOMIC_AGENT_TOKEN: z.string().optional(),
  /** Secret. Comma-separated client API keys; when set, `/api/*` and `/ws/*` need one. */
  ATOMIC_API_KEYS: z.string().optional(),
  /** Secret. Comma-separated operator keys: they authenticate like API keys and see every key's pipelines. */
  ATOMIC_OPERATOR_KEYS: z.string().optional(),
  /** Requests a minute one API key may make (0: no limit). */
  ATOMIC_RATE_LIMIT_PER_MIN: int("ATOMIC_RATE_LIMIT_PER_MIN", 600, 0, 1_000_000),
  /** Secret. Signs completion webhooks (Standard Webhooks, `whsec_…`) unless a key has its own. */
  ATOMIC_WEBHOOK_SECRET: WebhookSecret.optional(),
  /** Secret. JSON: each API key's webhook URL and, optionally, its own secret. */
  ATOMIC_KEY_WEBHOOKS: z
    .string()
    .optional()
    .superRefine((raw, ctx) => {
      const parsed = raw === undefined ? null : parseKeyWebhooks(raw);
      if (parsed && !parsed.ok) ctx.addIssue({ code: "custom", message: `ATOMIC_KEY_WEBHOOKS ${parsed.message}` });
    }),
  /** The unit of the webhook retry schedule: retries wait 1, 6, 24, 120, 360, 720 and 2160 of it. */
  ATOMIC_WEBHOOK_RETRY_BASE_MS: int("ATOMIC_WEBHOOK_RETRY_BASE_MS", 5_000, 10, 3_600_000),
  /** How long one delivery attempt waits for the receiver's answer. */
  ATOMIC_WEBHOOK_TIMEOUT_MS: int("ATOMIC_WEBHOOK_TIMEOUT_MS", 10_000, 100, 60_000),
});
export type EdgeConfig = z.infer<typeof EdgeConfigSchema>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

const cache = new WeakMap<object, EdgeConfig>();

/** Reads the configuration from the Worker's env, once per env object. */
export function readConfig(env: object): EdgeConfig {
  const cached = cache.get(env);
  if (cached) return cached;
  const values: Record<string, unknown> = {};
  for (const key of Object.keys(EdgeConfigSchema.shape)) {
    const value: unknown = Reflect.get(env, key);
    // An empty string in [vars] or .dev.vars means "not set", as it does in a shell.
    values[key] = value === "" ? undefined : value;
  }
  const parsed = EdgeConfigSchema.safeParse(values);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
    throw new ConfigError(`invalid configuration: ${detail}`);
  }
  cache.set(env, parsed.data);
  return parsed.data;
}
