import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VerifyReport } from "../../shared/src/index.ts";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent, type Assignment } from "../support/fake-agent.ts";
import { getJson, parseSse, postJson, until } from "../support/http.ts";

/**
 * VERIFYING and REPAIRING at the real edge, with a test playing the host-agent: it answers each
 * `sandbox.verify` and `llm.repair` job by hand, so every round, event and verdict can be checked.
 */

let edge: EdgeHandle;
beforeAll(async () => {
  edge = await startEdge({ ATOMIC_AGENT_WAIT_MS: "800", ATOMIC_MAX_REPAIRS: "3", ATOMIC_AGENT_GRACE_MS: "300" });
});
afterAll(async () => edge?.dispose());

const KINDS = ["llm.generate", "llm.repair", "sandbox.verify"] as const;

function report(over: Partial<VerifyReport> = {}): VerifyReport {
  return {
    passed: true,
    steps: [
      {
        name: "typecheck",
        command: "python3 -m py_compile app.py",
        exit_code: 0,
        timed_out: false,
        duration_ms: 40,
        output: "",
      },
      {
        name: "test",
        command: "python3 -m pytest",
        exit_code: 0,
        timed_out: false,
        duration_ms: 400,
        output: "3 passed",
      },
    ],
    tests: { passed: 3, failed: 0, skipped: 0 },
    failures: [],
    report: "junit",
    duration_ms: 450,
    cpu_ms: 310,
    peak_memory_bytes: 41_000_000,
    ...over,
  };
}

const FAILED = report({
  passed: false,
  steps: [
    {
      name: "test",
      command: "python3 -m pytest",
      exit_code: 1,
      timed_out: false,
      duration_ms: 400,
      output: "E       assert 0 == 3",
    },
  ],
  tests: { passed: 2, failed: 1, skipped: 0 },
  failures: [{ name: "test_app.test_add", message: "assert 0 == 3" }],
});

const APP_WRONG = "```python app.py\ndef add(a, b):\n    return 0\n```\n";
const APP_FIXED = "```python app.py\ndef add(a, b):\n    return a + b\n```\n";
const PINNED = { path: "test_app.py", content: "from app import add\n\ndef test_add():\n    assert add(1, 2) == 3\n" };

async function events(id: string, after = 0) {
  const res = await fetch(`${edge.url}/api/pipelines/${id}/events?after=${after}`);
  return parseSse(await res.text());
}

async function finished(id: string) {
  return until(
    () => getJson(`${edge.url}/api/pipelines/${id}`),
    (r) => ["COMPLETED", "FAILED", "CANCELLED"].includes(r.body.state),
    15_000,
  );
}

/** The files of a tar archive, by path. */
function untar(bytes: Uint8Array): Map<string, string> {
  const files = new Map<string, string>();
  const decoder = new TextDecoder();
  for (let at = 0; at + 512 <= bytes.length;) {
    const header = bytes.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const field = (from: number, to: number) => decoder.decode(header.subarray(from, to)).replace(/\0.*$/s, "");
    const name = field(345, 500) === "" ? field(0, 100) : `${field(345, 500)}/${field(0, 100)}`;
    const size = parseInt(field(124, 136).trim(), 8);
    files.set(name, decoder.decode(bytes.subarray(at + 512, at + 512 + size)));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

describe("a verified pipeline", () => {
  it("tests the first answer with the pinned tests and reports verified in the result, manifest, bundle and metrics", async () => {
    const agent = await FakeAgent.link(edge, { id: "verify-first", kinds: [...KINDS], docker: true });
    const before = (await getJson(`${edge.url}/api/metrics`)).body.verification;
    const res = await postJson(`${edge.url}/api/generate`, {
      prompt: "a python function add(a, b)",
      metadata: { verify: true, tests: [PINNED], test_command: "python3 -m pytest -q" },
      async: true,
    });
    expect(res.status).toBe(202);
    const id: string = res.body.pipeline_id;
    agent.generate(await agent.nextJob("llm.generate"), [APP_FIXED.slice(0, 20), APP_FIXED.slice(20)]);
    const verify = await agent.nextJob("sandbox.verify");
    expect(verify.job_id).toBe(`${id}/verifying-0`);
    // The pinned test joins the generated files; the request's test command travels with them.
    expect(verify.payload).toEqual({
      language: "python",
      files: [
        { path: "app.py", content: "def add(a, b):\n    return a + b\n" },
        { path: "test_app.py", content: PINNED.content },
      ],
      test_command: "python3 -m pytest -q",
    });
    agent.result(verify, 0, report());
    const view = await finished(id);
    expect(view.body.state).toBe("COMPLETED");
    expect(view.body.verified).toBe(true);
    expect(view.body.verification).toMatchObject({
      verified: true,
      status: "passed",
      repairs: 0,
      max_repairs: 2,
      tests: { passed: 3, failed: 0, skipped: 0 },
      pinned: ["test_app.py"],
    });
    expect(view.body.verification.rounds).toHaveLength(1);
    expect(view.body.stages.map((s: any) => `${s.stage}${s.round === undefined ? "" : `#${s.round}`}`)).toEqual([
      "PARSING",
      "GENERATING",
      "VERIFYING#0",
      "PACKAGING",
    ]);

    const stream = await events(id);
    const kinds = stream.map((e) => (e.event === "stage" ? `${e.data.stage}:${e.data.status}` : e.event));
    // The closing chunk comes after the verdict, and the pinned test is part of the final content.
    expect(kinds.slice(kinds.indexOf("VERIFYING:started"))).toEqual([
      "VERIFYING:started",
      "verification",
      "chunk",
      "VERIFYING:completed",
      "PACKAGING:started",
      "PACKAGING:completed",
      "result",
    ]);
    const verification = stream.find((e) => e.event === "verification")!.data;
    expect(verification.round).toMatchObject({ round: 0, passed: true, cpu_ms: 310, peak_memory_bytes: 41_000_000 });
    const closing = stream.filter((e) => e.event === "chunk").at(-1)!.data;
    expect(closing.is_final).toBe(true);
    expect(closing.content).toContain("```python app.py\n");
    expect(closing.content).toContain(PINNED.content);
    const result = stream.at(-1)!.data;
    expect(result).toMatchObject({ type: "result", verified: true, verification: { status: "passed" } });
    expect(result.content).toBe(closing.content);

    const manifest = await getJson(`${edge.url}/api/pipelines/${id}/artifacts`);
    expect(manifest.body).toMatchObject({ verified: true, verification: { status: "passed", repairs: 0 } });
    expect(manifest.body.files.map((f: any) => f.path)).toEqual(["app.py", "test_app.py"]);
    const bundle = untar(
      new Uint8Array(await (await fetch(`${edge.url}/api/pipelines/${id}/artifacts.tar`)).arrayBuffer()),
    );
    expect(JSON.parse(bundle.get(".atomic/verification.json")!)).toMatchObject({ verified: true, status: "passed" });
    expect(bundle.get("test_app.py")).toBe(PINNED.content);

    const after = (await getJson(`${edge.url}/api/metrics`)).body.verification;
    expect(after.verified).toBe(before.verified + 1);
    expect(after.by_repairs.passed["0"]).toBe((before.by_repairs.passed["0"] ?? 0) + 1);
    const prometheus = await (await fetch(`${edge.url}/metrics`)).text();
    expect(prometheus).toMatch(/atomic_verifications_total\{pool="default",status="passed",repairs="0"\} \d+/);
    agent.close();
  });

  it("repairs a failing answer: the repair sees the failure and the files, a change to a pinned test is rejected, and the next round passes", async () => {
    const agent = await FakeAgent.link(edge, { id: "verify-repair", kinds: [...KINDS], docker: true });
    const res = await postJson(`${edge.url}/api/generate`, {
      prompt: "a python function add(a, b)",
      metadata: { verify: true, tests: [PINNED] },
      async: true,
    });
    const id: string = res.body.pipeline_id;
    agent.generate(await agent.nextJob("llm.generate"), [APP_WRONG]);
    agent.result(await agent.nextJob("sandbox.verify"), 0, FAILED);

    const repair = await agent.nextJob("llm.repair");
    expect(repair.job_id).toBe(`${id}/repairing-1`);
    expect(repair.payload).toMatchObject({
      prompt: "a python function add(a, b)",
      language: "python",
      pinned: ["test_app.py"],
      round: 1,
      requirements: { language: "python", entry_file: "main.py" },
      files: [
        { path: "app.py", content: "def add(a, b):\n    return 0\n" },
        { path: "test_app.py", content: PINNED.content },
      ],
    });
    const failures: string = (repair.payload as { failures: string }).failures;
    expect(failures).toContain("FAILED test_app.test_add\nassert 0 == 3");
    expect(failures).toContain("E       assert 0 == 3");
    // The model fixes the program and also tries to weaken the pinned test.
    agent.generate(repair, [APP_FIXED, "```python test_app.py\ndef test_add():\n    assert True\n```\n"]);

    const second = await agent.nextJob("sandbox.verify");
    expect(second.job_id).toBe(`${id}/verifying-1`);
    expect(second.payload).toMatchObject({
      files: [
        { path: "app.py", content: "def add(a, b):\n    return a + b\n" },
        { path: "test_app.py", content: PINNED.content },
      ],
    });
    agent.result(second, 0, report());
    const view = await finished(id);
    expect(view.body).toMatchObject({
      state: "COMPLETED",
      verified: true,
      verification: { status: "passed", repairs: 1, tests: { passed: 3, failed: 0 } },
    });
    expect(view.body.verification.rounds.map((r: any) => [r.round, r.passed, r.rejected_changes ?? []])).toEqual([
      [0, false, []],
      [1, true, ["test_app.py"]],
    ]);
    expect(view.body.stages.map((s: any) => `${s.stage}${s.round === undefined ? "" : `#${s.round}`}`)).toEqual([
      "PARSING",
      "GENERATING",
      "VERIFYING#0",
      "REPAIRING#1",
      "VERIFYING#1",
      "PACKAGING",
    ]);

    // Every round is in the stream once, and a client resuming at any seq gets exactly the rest.
    const all = await events(id);
    expect(all.map((e) => Number(e.id))).toEqual(all.map((_, i) => i + 1));
    const rounds = all
      .filter((e) => e.event === "stage" && e.data.status === "started")
      .map((e) => [e.data.stage, e.data.round]);
    expect(rounds).toEqual([
      ["PARSING", undefined],
      ["GENERATING", undefined],
      ["VERIFYING", 0],
      ["REPAIRING", 1],
      ["VERIFYING", 1],
      ["PACKAGING", undefined],
    ]);
    const repairStart = all.findIndex((e) => e.data.stage === "REPAIRING" && e.data.status === "started");
    // The repair's chunks carry the running text of that round, from empty.
    const repairChunk = all.slice(repairStart).find((e) => e.event === "chunk")!.data;
    expect(repairChunk.content).toBe(APP_FIXED);
    const final = all.filter((e) => e.event === "chunk").at(-1)!.data;
    expect(final.is_final).toBe(true);
    expect(final.content).toContain("return a + b");
    expect(final.content).toContain("assert add(1, 2) == 3");
    expect(final.content).not.toContain("assert True");
    for (const cut of [1, repairStart, repairStart + 2, all.length - 3]) {
      const rest = await events(id, cut);
      expect(rest.map((e) => e.id)).toEqual(all.slice(cut).map((e) => e.id));
      const last = rest.filter((e) => e.event === "chunk").at(-1);
      if (last) expect(last.data.content).toBe(final.content);
    }
    expect(all.at(-1)!.data.content).toBe(final.content);
    agent.close();
  });

  it("ends unverified after max_repairs with every round recorded", async () => {
    const agent = await FakeAgent.link(edge, { id: "verify-never", kinds: [...KINDS], docker: true });
    const res = await postJson(`${edge.url}/api/generate`, {
      prompt: "a python function add(a, b)",
      metadata: { verify: true, max_repairs: 1 },
      async: true,
    });
    const id: string = res.body.pipeline_id;
    agent.generate(await agent.nextJob("llm.generate"), [APP_WRONG]);
    agent.result(await agent.nextJob("sandbox.verify"), 0, FAILED);
    agent.generate(await agent.nextJob("llm.repair"), [APP_WRONG]);
    agent.result(await agent.nextJob("sandbox.verify"), 0, FAILED);
    const view = await finished(id);
    expect(view.body).toMatchObject({
      state: "COMPLETED",
      verified: false,
      verification: { verified: false, status: "failed", repairs: 1, max_repairs: 1, tests: { failed: 1 } },
    });
    expect(view.body.verification.rounds).toHaveLength(2);
    expect(view.body.artifacts.count).toBe(1);
    const metrics = (await getJson(`${edge.url}/api/metrics`)).body.verification;
    expect(metrics.by_repairs.failed["1"]).toBeGreaterThanOrEqual(1);
    agent.close();
  });

  it("re-places a repair whose host-agent died, and the stream holds the round once", async () => {
    const first = await FakeAgent.link(edge, { id: "verify-dies", kinds: [...KINDS], docker: true });
    const res = await postJson(`${edge.url}/api/generate`, {
      prompt: "a python function add(a, b)",
      metadata: { verify: true, max_repairs: 1 },
      async: true,
    });
    const id: string = res.body.pipeline_id;
    first.generate(await first.nextJob("llm.generate"), [APP_WRONG]);
    first.result(await first.nextJob("sandbox.verify"), 0, FAILED);
    const repair: Assignment = await first.nextJob("llm.repair");
    first.token(repair, 1, APP_FIXED.slice(0, 15));
    // The chunk is stored: the repair's round has text (the SSE stream would stay open until the end).
    await until(
      () => getJson(`${edge.url}/api/pipelines/${id}`),
      (r) => r.body.state === "REPAIRING" && r.body.content_chars === 15,
    );
    first.kill();
    const second = await FakeAgent.link(edge, { id: "verify-takes-over", kinds: [...KINDS], docker: true });
    const again = await second.nextJob("llm.repair", 20_000);
    expect(again.job_id).toBe(repair.job_id);
    expect(again.attempt).toBe(repair.attempt + 1);
    second.generate(again, [APP_FIXED]);
    second.result(await second.nextJob("sandbox.verify"), 0, report());
    const view = await finished(id);
    expect(view.body).toMatchObject({ state: "COMPLETED", verified: true, verification: { repairs: 1 } });
    const all = await events(id);
    const restarted = all.findIndex((e) => e.data.stage === "REPAIRING" && e.data.status === "restarted");
    expect(restarted).toBeGreaterThan(0);
    // After the restart the round streams from empty again: its text is in the stream once.
    const afterRestart = all.slice(restarted).filter((e) => e.event === "chunk" && !e.data.is_final);
    expect(afterRestart.map((e) => e.data.delta).join("")).toBe(APP_FIXED);
    expect(afterRestart.at(-1)!.data.content).toBe(APP_FIXED);
    second.close();
  });

  it("states the verdict in a git export's commit message", async () => {
    const agent = await FakeAgent.link(edge, { id: "verify-export", kinds: [...KINDS, "export"], docker: true });
    const res = await postJson(`${edge.url}/api/generate`, {
      prompt: "a python function add(a, b)",
      metadata: { verify: true, export: { type: "git", repo: "app", message: "Add add()" } },
      async: true,
    });
    agent.generate(await agent.nextJob("llm.generate"), [APP_FIXED]);
    agent.result(await agent.nextJob("sandbox.verify"), 0, report());
    const exported = await agent.nextJob("export");
    expect((exported.payload as { target: unknown }).target).toEqual({
      type: "git",
      repo: "app",
      message: "Add add()\n\nVerified: tests passed in the sandbox (3 passed, 0 failed, 0 skipped).",
    });
    agent.result(exported, 0, { type: "git", path: "app", files: 1, commit: "a".repeat(40), branch: "main" });
    expect((await finished(res.body.pipeline_id)).body).toMatchObject({ state: "COMPLETED", verified: true });
    agent.close();
  });

  it("says why it could not verify: no test runner for the language, or no sandbox", async () => {
    const agent = await FakeAgent.link(edge, { id: "verify-skip", kinds: ["llm.generate"], docker: false });
    const go = await postJson(`${edge.url}/api/generate`, {
      prompt: "hello world",
      metadata: { verify: true, language: "go" },
      async: true,
    });
    agent.generate(await agent.nextJob("llm.generate"), ["```go main.go\npackage main\n```\n"]);
    const goView = await finished(go.body.pipeline_id);
    expect(goView.body).toMatchObject({
      state: "COMPLETED",
      verified: false,
      verification: { status: "skipped", skipped_reason: "the sandbox has no test runner for go" },
    });
    // `validate: true` is the older name of `verify`.
    const py = await postJson(`${edge.url}/api/generate`, {
      prompt: "a python function add(a, b)",
      metadata: { validate: true },
      async: true,
    });
    agent.generate(await agent.nextJob("llm.generate"), [APP_FIXED]);
    const pyView = await finished(py.body.pipeline_id);
    expect(pyView.body.verified).toBe(false);
    expect(pyView.body.verification.status).toBe("skipped");
    expect(pyView.body.verification.skipped_reason).toContain("no sandbox could run the tests");
    const closing = (await events(py.body.pipeline_id)).filter((e) => e.event === "chunk").at(-1)!.data;
    expect(closing).toMatchObject({ is_final: true, content: APP_FIXED });
    agent.close();
  });
});

describe("bad verification requests", () => {
  it("answers 400 naming what is wrong, and starts nothing", async () => {
    const post = (metadata: unknown) => postJson(`${edge.url}/api/generate`, { prompt: "x", metadata, async: true });
    const cases: Array<[unknown, string]> = [
      [{ verify: true, max_repairs: -1 }, "max_repairs must be 0 or more"],
      [{ verify: true, max_repairs: 11 }, "max_repairs may be at most 10"],
      [{ verify: true, max_repairs: 1.5 }, "max_repairs must be a whole number"],
      [{ verify: true, max_repairs: "2" }, "max_repairs must be a whole number"],
      [{ tests: [{ path: "t.py", content: "x".repeat(70_000) }] }, "a pinned test file may hold at most 65536"],
      [{ tests: [{ path: "t.py", content: "a\u0000b" }] }, "is not text"],
      [{ tests: [{ path: "../t.py", content: "x" }] }, "must be a relative path inside the workspace"],
      [
        {
          tests: [
            { path: "t.py", content: "x" },
            { path: "t.py", content: "y" },
          ],
        },
        "t.py is listed twice",
      ],
      [{ tests: Array.from({ length: 21 }, (_, i) => ({ path: `t${i}.py`, content: "x" })) }, "more than 20 files"],
      [
        { tests: Array.from({ length: 3 }, (_, i) => ({ path: `t${i}.py`, content: "x".repeat(60_000) })) },
        "at most 131072",
      ],
      [{ test_command: "x".repeat(1025) }, "longer than 1024 characters"],
    ];
    for (const [metadata, message] of cases) {
      const res = await post(metadata);
      expect(res.status, JSON.stringify(metadata).slice(0, 80)).toBe(400);
      expect(res.body.error.message).toContain(message);
    }
  });
});
