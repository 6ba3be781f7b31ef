import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sampleDisk } from "../../bench/soak-sampler.ts";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent } from "../support/fake-agent.ts";
import { getJson, postJson, until } from "../support/http.ts";

/**
 * Where a pipeline's artifacts live (edge/src/pipeline/artifact-store.ts): in the pipeline's own
 * storage while the bundle is at most ATOMIC_ARTIFACTS_INLINE_MAX_BYTES (1 MiB by default), in R2
 * past it (0 here: always). Clients see the same answers either way, and retention removes both.
 */
const FILES = [
  { path: "main.py", content: "from util import greet\nprint(greet('é'))\n" },
  { path: "util.py", content: "def greet(name):\n    return f'hello {name}'\n" },
];
const OUTPUT = FILES.map((file) => `\`\`\`python ${file.path}\n${file.content}\`\`\`\n`);
const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/** Blob files in the local R2 bucket's store under `stateDir`. */
const r2Blobs = (stateDir: string): number => sampleDisk(stateDir).r2_blobs;

const edges: Array<{ edge: EdgeHandle; agent: FakeAgent; dir: string }> = [];
afterAll(async () => {
  for (const { edge, agent, dir } of edges) {
    agent.close();
    await edge.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

describe.each([
  { placement: "the pipeline's own storage", inlineMax: "1048576", blobsWhileKept: 0 },
  // Two files, the bundle and the manifest.
  { placement: "R2", inlineMax: "0", blobsWhileKept: 4 },
])("artifacts kept in $placement", ({ inlineMax, blobsWhileKept }) => {
  it("serves the manifest, each file (with its ETag) and the bundle, and retention removes them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "atomic-artifact-placement-"));
    const edge = await startEdge(
      { ATOMIC_ARTIFACTS_INLINE_MAX_BYTES: inlineMax, ATOMIC_PIPELINE_RETENTION_HOURS: "0.002" },
      dir,
    );
    const agent = await FakeAgent.link(edge);
    edges.push({ edge, agent, dir });

    const started = await postJson(`${edge.url}/api/generate`, { prompt: "two files", async: true });
    const id = String(started.body.pipeline_id);
    agent.generate(await agent.nextJob(), OUTPUT);
    await until(
      () => getJson(`${edge.url}/api/pipelines/${id}`),
      (r) => r.body.state === "COMPLETED",
    );

    const manifest = await getJson(`${edge.url}/api/pipelines/${id}/artifacts`);
    expect(manifest.status).toBe(200);
    expect(manifest.body.files.map((f: { path: string }) => f.path)).toEqual(["main.py", "util.py"]);
    for (const file of FILES) {
      const res = await fetch(`${edge.url}/api/pipelines/${id}/artifacts/${file.path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect(new TextDecoder().decode(bytes)).toBe(file.content);
      const entry = manifest.body.files.find((f: { path: string }) => f.path === file.path);
      expect(entry.sha256).toBe(sha256(bytes));
      const etag = res.headers.get("etag");
      const again = await fetch(`${edge.url}/api/pipelines/${id}/artifacts/${file.path}`, {
        headers: { "If-None-Match": etag ?? "" },
      });
      expect(again.status).toBe(304);
    }
    const tar = await fetch(`${edge.url}/api/pipelines/${id}/artifacts.tar`);
    expect(tar.status).toBe(200);
    const tarBytes = new Uint8Array(await tar.arrayBuffer());
    expect(tarBytes.length).toBe(manifest.body.bundle.size);
    expect(sha256(tarBytes)).toBe(manifest.body.bundle.sha256);
    expect((await fetch(`${edge.url}/api/pipelines/${id}/artifacts/nope.py`)).status).toBe(404);
    expect(r2Blobs(dir)).toBe(blobsWhileKept);

    // Retention (7.2 s): the pipeline and every artifact go, wherever they were.
    await until(
      () => getJson(`${edge.url}/api/pipelines/${id}`),
      (r) => r.status === 404,
      30_000,
      250,
    );
    expect((await fetch(`${edge.url}/api/pipelines/${id}/artifacts/main.py`)).status).toBe(404);
    expect((await fetch(`${edge.url}/api/pipelines/${id}/artifacts.tar`)).status).toBe(404);
    await until(
      async () => r2Blobs(dir),
      (blobs) => blobs === 0,
      10_000,
      250,
    );
  }, 90_000);
});

describe("the setting", () => {
  it("refuses an inline size above 1 MiB, naming the setting", async () => {
    const bad = await startEdge({ ATOMIC_ARTIFACTS_INLINE_MAX_BYTES: "2000000" });
    try {
      const res = await getJson(`${bad.url}/health`);
      expect(res.status).toBe(500);
      expect(res.body.error.message).toContain("ATOMIC_ARTIFACTS_INLINE_MAX_BYTES must be at most 1048576");
    } finally {
      await bad.dispose();
    }
  });
});
