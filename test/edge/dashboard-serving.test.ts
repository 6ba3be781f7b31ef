import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DashboardFiles, type DashboardFile } from "../../edge/src/dashboard/dashboard-file.ts";
import { ROOT, startEdge, type EdgeHandle } from "../support/edge.ts";

/**
 * The Worker serves the dashboard itself (edge/src/dashboard/): the page, its script and its
 * stylesheet as the build wrote them, with the security headers a browser enforces, ETags a
 * browser revalidates with, and the API's own answers for every other method and path.
 */
let edge: EdgeHandle;
beforeAll(async () => {
  edge = await startEdge();
});
afterAll(async () => {
  await edge?.dispose();
});

/** What the build wrote, read after the edge started (wrangler runs the build first). */
function built(name: string): DashboardFile {
  const files = DashboardFiles.parse(JSON.parse(readFileSync(join(ROOT, "dashboard", "dist", "files.json"), "utf8")));
  const file = files[name];
  if (file === undefined) throw new Error(`the build has no ${name}`);
  return file;
}

describe("the dashboard, served by the Worker", () => {
  it.each([
    ["/", "/", "text/html; charset=utf-8"],
    ["/index.html", "/", "text/html; charset=utf-8"],
    ["/app.js", "/app.js", "text/javascript; charset=utf-8"],
    ["/app.css", "/app.css", "text/css; charset=utf-8"],
  ])("GET %s answers the built file with its type, ETag and security headers", async (path, name, type) => {
    const res = await fetch(`${edge.url}${path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(type);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    const file = built(name);
    expect(res.headers.get("etag")).toBe(file.etag);
    expect(await res.text()).toBe(file.body);
  });

  it("the page loads the script and the stylesheet it is served with", async () => {
    const page = await (await fetch(`${edge.url}/`)).text();
    expect(page).toContain('<script type="module" src="/app.js"></script>');
    expect(page).toContain('<link rel="stylesheet" href="/app.css" />');
  });

  it("answers a revalidation with 304 and no body, for a strong, a weak or a listed tag", async () => {
    const { etag } = built("/app.js");
    for (const header of [etag, `W/${etag}`, `"stale", ${etag}`, "*"]) {
      const res = await fetch(`${edge.url}/app.js`, { headers: { "If-None-Match": header } });
      expect(res.status, header).toBe(304);
      expect(res.headers.get("etag")).toBe(etag);
      expect(await res.text()).toBe("");
    }
    const stale = await fetch(`${edge.url}/app.js`, { headers: { "If-None-Match": '"stale"' } });
    expect(stale.status).toBe(200);
    expect((await stale.text()).length).toBe(built("/app.js").body.length);
  });

  it("answers HEAD with the headers and no body", async () => {
    const res = await fetch(`${edge.url}/app.css`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(res.headers.get("etag")).toBe(built("/app.css").etag);
    expect(await res.text()).toBe("");
  });

  it("answers another method on its paths with 405 and Allow, and an unknown path with the API's 404", async () => {
    const post = await fetch(`${edge.url}/`, { method: "POST", body: "x" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET");
    const missing = await fetch(`${edge.url}/app.map`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ success: false, error: { code: "not_found" } });
  });
});
