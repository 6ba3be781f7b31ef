import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { getJson, postJson, until } from "../support/http.ts";
import { removeDir, startHostAgent, startPythonAgent, waitForAgents, type Proc } from "../support/processes.ts";
import { RecordingSocket } from "../support/ws.ts";

/**
 * The whole product on one machine: the real edge (workerd), the real host-agent CLI and the real
 * reference Python agent (offline provider), talking over a real WebSocket and a real Unix socket.
 */
let edge: EdgeHandle;
let python: Awaited<ReturnType<typeof startPythonAgent>>;
let exportDir: string;
const agents: Proc[] = [];

beforeAll(async () => {
  edge = await startEdge({ ATOMIC_AGENT_WAIT_MS: "20000" });
  python = await startPythonAgent({ ATOMIC_LLM_OFFLINE_DELAY_MS: "2" });
  exportDir = mkdtempSync(join(tmpdir(), "atomic-e2e-export-"));
  for (const id of ["e2e-one", "e2e-two"]) {
    agents.push(
      startHostAgent(edge, {
        ATOMIC_AGENT_ID: id,
        ATOMIC_IPC_SOCKET: python.socket,
        ATOMIC_THREADS: "1",
        ATOMIC_EXPORT_DIR: exportDir,
        ATOMIC_SANDBOX: "off",
      }),
    );
  }
  await waitForAgents(edge, 2);
});

afterAll(async () => {
  for (const agent of agents) agent.kill();
  await Promise.all(agents.map((a) => a.exited));
  python?.proc.kill();
  await python?.proc.exited;
  await edge?.dispose();
  removeDir(python.dir);
  removeDir(exportDir);
});

describe("end to end: edge + host-agent + Python agent", () => {
  it("POST /api/generate returns a runnable Python program and its artifacts", async () => {
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "Hello World in Python" });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.content).toContain("```python");
    const files = res.body.artifacts.files as Array<{ path: string }>;
    const entry = files.find((f) => f.path.endsWith(".py"))!;
    const source = await (
      await fetch(`${edge.url}/api/pipelines/${res.body.pipeline_id}/artifacts/${entry.path}`)
    ).text();
    const dir = mkdtempSync(join(tmpdir(), "atomic-run-"));
    writeFileSync(join(dir, "main.py"), source);
    expect(execFileSync("python3", [join(dir, "main.py")], { encoding: "utf8" })).toContain("Hello, World!");
    removeDir(dir);
    const health = await getJson(`${edge.url}/health`);
    expect(health.body).toMatchObject({
      status: "ok",
      llm_agent: "healthy",
      llm_provider: "offline",
      agents_connected: 2,
    });
  });

  it("streams the seed's WebSocket protocol in many chunks", async () => {
    const client = new RecordingSocket(`${edge.wsUrl}/ws/stream`);
    await client.opened();
    client.send({
      prompt: "Build a REST API for user management",
      metadata: { stream: true, language: "typescript", framework: "express" },
    });
    const result = await client.waitFor((m) => m["type"] === "result", 30_000);
    const chunks = client.messages.filter((m: any) => m.type === "chunk") as any[];
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks.at(-1)).toMatchObject({ is_final: true });
    expect(chunks.at(-1).content).toBe(result["content"]);
    expect(
      chunks
        .slice(0, -1)
        .map((c) => c.delta)
        .join(""),
    ).toBe(result["content"]);
    expect(String(result["content"])).toContain("express");
  });

  it("shares load between two host-agents", async () => {
    const ids = await Promise.all(
      Array.from(
        { length: 6 },
        async (_, i) =>
          (await postJson(`${edge.url}/api/generate`, { prompt: `program number ${i} in python`, async: true })).body
            .pipeline_id as string,
      ),
    );
    const views = await Promise.all(
      ids.map((id) =>
        until(
          () => getJson(`${edge.url}/api/pipelines/${id}`),
          (r) => r.body.state === "COMPLETED",
          60_000,
        ),
      ),
    );
    const ranOn = new Set(views.map((v) => v.body.stages.find((s: any) => s.stage === "GENERATING").agent_id));
    expect(ranOn).toEqual(new Set(["e2e-one", "e2e-two"]));
  });

  it("exports to a folder and to a git repository on the host", async () => {
    const fsRes = await postJson(`${edge.url}/api/generate`, {
      prompt: "Hello World in Python",
      metadata: { export: { type: "filesystem" } },
    });
    expect(fsRes.status, JSON.stringify(fsRes.body)).toBe(200);
    expect(fsRes.body.export).toMatchObject({ type: "filesystem", path: join(exportDir, fsRes.body.pipeline_id) });
    const exported = readFileSync(join(exportDir, fsRes.body.pipeline_id, fsRes.body.artifacts.files[0].path), "utf8");
    expect(exported).toContain("Hello, World!");

    const gitRes = await postJson(`${edge.url}/api/generate`, {
      prompt: "Hello World in Python",
      metadata: { export: { type: "git", repo: "generated", branch: "main", message: "Add hello world" } },
    });
    expect(gitRes.status, JSON.stringify(gitRes.body)).toBe(200);
    const repo = join(exportDir, "generated");
    expect(gitRes.body.export.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(execFileSync("git", ["-C", repo, "log", "-1", "--format=%H %s"], { encoding: "utf8" }).trim()).toBe(
      `${gitRes.body.export.commit} Add hello world`,
    );
  });
});
