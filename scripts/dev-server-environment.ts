/**
 * V8's flags for wrangler's workerd processes: every collection a full one. The dev server runs
 * some twenty isolates (its entry worker, proxies and simulators beside the Worker's), and what a
 * request leaves behind in them was measured to go with full collections, which an isolate that
 * allocates little reaches late: after 5,000 requests for
 * `/app.css` the runtime had grown 288 MB and the dev proxy 198 MB, against 54 and 34 MB with this
 * flag (docs/BENCHMARKS.md, "Soak"). An operator's own `MINIFLARE_WORKERD_V8_FLAGS` wins.
 */
export const WORKERD_V8_FLAGS = "--gc-global";

/**
 * The environment wrangler's dev server runs with, for `npm start` and for the tests and benches
 * alike: offline (no metrics, no `cf` fetch), without the local trace collector unless
 * X_LOCAL_OBSERVABILITY=true (it streams every invocation to a second worker: about a third of the
 * runtime's CPU per pipeline), and with {@link WORKERD_V8_FLAGS}.
 */
export function devServerEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  return {
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    X_LOCAL_OBSERVABILITY: env["X_LOCAL_OBSERVABILITY"] ?? "false",
    MINIFLARE_WORKERD_V8_FLAGS: env["MINIFLARE_WORKERD_V8_FLAGS"] ?? WORKERD_V8_FLAGS,
  };
}
