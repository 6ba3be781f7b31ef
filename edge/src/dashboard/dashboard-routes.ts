import builtFiles from "atomic-dashboard-files";
import { Hono } from "hono";
import type { AppEnv } from "../api/context.ts";
import { matchesEtag } from "../api/etag.ts";
import { DashboardFiles } from "./dashboard-file.ts";

/**
 * The dashboard's page, script and stylesheet, served by the Worker itself. An asset server in
 * front of the Worker would put its own isolates on every API request as well (wrangler's local
 * one keeps garbage per request that it collects late: docs/BENCHMARKS.md, "Soak").
 */
export const dashboardRoutes = new Hono<AppEnv>();

const files = new Map(Object.entries(DashboardFiles.parse(builtFiles)));

/**
 * No inline script or style can run, the page talks only to its own origin, no other site can
 * frame it, and a browser asks again (a 304 when unchanged) rather than keep a stale build.
 */
export const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-cache",
};

/** Each path the dashboard answers (GET and HEAD), and the built file it serves. */
const ROUTES: ReadonlyArray<readonly [path: string, file: string]> = [
  ["/", "/"],
  ["/index.html", "/"],
  ["/app.js", "/app.js"],
  ["/app.css", "/app.css"],
];

/** The dashboard's paths, for the 405 that names the method they take. */
export const DASHBOARD_PATHS = new RegExp(`^(${ROUTES.map(([path]) => path.replaceAll(".", "\\.")).join("|")})$`);

for (const [path, name] of ROUTES) {
  const file = files.get(name);
  if (file === undefined) throw new Error(`the dashboard's build has no ${name}: run node scripts/build-dashboard.ts`);
  dashboardRoutes.get(path, (c) => {
    const headers = { ...DASHBOARD_HEADERS, ETag: file.etag };
    if (matchesEtag(c.req.header("If-None-Match"), file.etag)) return new Response(null, { status: 304, headers });
    return new Response(file.body, { headers: { ...headers, "Content-Type": file.content_type } });
  });
}
