import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent } from "../support/fake-agent.ts";
import { getJson } from "../support/http.ts";

let edge: EdgeHandle;
let agent: FakeAgent;
const dir = mkdtempSync(join(tmpdir(), "atomic-artifacts-tar-"));
beforeAll(async () => {
  edge = await startEdge({ ATOMIC_AGENT_WAIT_MS: "3000" });
  agent = await FakeAgent.link(edge);
});
afterAll(async () => {
  agent?.close();
  await edge?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

// Each path fits the 256 characters split-files.ts accepts, and none fits ustar's 155-byte prefix
// plus 100-byte name, so the bundle needs pax headers for all but the first.
const FILES = [
  { path: "main.py", content: "print('hello')\n" },
  // 108 characters, 208 bytes: the directory alone is 200 bytes, over the 155-byte prefix.
  { path: `${"é".repeat(100)}/main.py`, content: "print('é' * 100)\n" },
  // A last segment of 113 bytes, over the 100-byte name.
  { path: `lib/${"ü".repeat(55)}.py`, content: "ÜBER = 'ü'\n" },
  // 164 characters, 324 bytes: over the 255 bytes ustar can hold at all.
  { path: `${"é".repeat(100)}/${"ü".repeat(60)}.py`, content: "def f():\n    return 'ü'\n" },
];
const OUTPUT = [
  "Here are the files:\n\n",
  ...FILES.map((file) => `\`\`\`python ${file.path}\n${file.content}\`\`\`\n\n`),
  "Run `python main.py`.\n",
];

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");
// GNU tar converts pax paths (UTF-8) to the locale's charset: pin a UTF-8 locale.
const TAR_ENV = { ...process.env, LC_ALL: "C.UTF-8" };

describe("GET /api/pipelines/:id/artifacts.tar", () => {
  it("bundles long and non-ASCII paths so GNU tar extracts every file byte for byte", async () => {
    const pending = fetch(`${edge.url}/api/generate`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ prompt: "A Python package with long file names", metadata: { language: "python" } }),
    });
    agent.generate(await agent.nextJob("llm.generate"), OUTPUT);
    const res = await pending;
    const body = (await res.json()) as Record<string, any>;
    expect(res.status, JSON.stringify(body)).toBe(200);
    const id: string = body.pipeline_id;

    const manifest = await getJson(`${edge.url}/api/pipelines/${id}/artifacts`);
    expect(manifest.status, JSON.stringify(manifest.body)).toBe(200);
    const entries: Array<{ path: string; size: number; sha256: string }> = manifest.body.files;
    expect(entries.map((entry) => entry.path)).toEqual(FILES.map((file) => file.path));

    const download = await fetch(`${edge.url}/api/pipelines/${id}/artifacts.tar`);
    expect(download.status).toBe(200);
    expect(download.headers.get("content-type")).toBe("application/x-tar");
    const tar = new Uint8Array(await download.arrayBuffer());
    expect({ size: tar.length, sha256: sha256(tar) }).toEqual({
      size: manifest.body.bundle.size,
      sha256: manifest.body.bundle.sha256,
    });

    const archive = join(dir, `${id}.tar`);
    const out = join(dir, id);
    writeFileSync(archive, tar);
    mkdirSync(out);
    execFileSync("tar", ["-x", "-f", archive, "-C", out], { env: TAR_ENV });
    const listed = execFileSync("tar", ["-t", "-f", archive], { encoding: "utf8", env: TAR_ENV });
    expect(listed.trim().split("\n")).toEqual(FILES.map((file) => file.path));
    for (const [i, file] of FILES.entries()) {
      const bytes = new Uint8Array(readFileSync(join(out, file.path)));
      expect(bytes, file.path).toEqual(new TextEncoder().encode(file.content));
      expect({ size: bytes.length, sha256: sha256(bytes) }, file.path).toEqual({
        size: entries[i]?.size,
        sha256: entries[i]?.sha256,
      });
    }
  });
});
