import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerGate } from "../../host-agent/src/sandbox/test-support.ts";
import { getJson, parseSse, postJson, until } from "../support/http.ts";
import { startHostAgent } from "../support/processes.ts";
import { startSandboxStack, type SandboxStack } from "../support/sandbox-stack.ts";
import { ScriptedLlm, type ChatRequest } from "../support/scripted-llm.ts";

const docker = await dockerGate("test/e2e/verified.test.ts");

/**
 * Verified generation through the whole product: the edge, the real Python agent (offline, or an
 * OpenAI-compatible provider talking to a scripted local server), the host-agent CLI and the real
 * Docker sandbox running pytest, tsc and node --test.
 */

async function finished(stack: SandboxStack, id: string) {
  return until(
    () => getJson(`${stack.edge.url}/api/pipelines/${id}`),
    (r) => ["COMPLETED", "FAILED", "CANCELLED"].includes(r.body.state),
    150_000,
    200,
  );
}

async function eventsOf(stack: SandboxStack, id: string) {
  return parseSse(await (await fetch(`${stack.edge.url}/api/pipelines/${id}/events`)).text());
}

const userText = (request: ChatRequest) =>
  request.messages
    .filter((m) => m.role === "user")
    .map((m) => m.content)
    .join("\n");

describe.skipIf(!docker.available)("verified generation with the offline provider", () => {
  let stack: SandboxStack;
  beforeAll(async () => {
    stack = await startSandboxStack({ ATOMIC_AGENT_WAIT_MS: "20000" }, (socket) => ({
      ATOMIC_AGENT_ID: `e2e-verified-offline-${process.pid}`,
      ATOMIC_IPC_SOCKET: socket,
      ATOMIC_SANDBOX_WARM: "1",
    }));
  }, 300_000);
  afterAll(async () => stack?.stop());

  it.each([
    ["Create a REST API for user management", { language: "typescript", framework: "express" }],
    ["Build a REST API", { language: "python" }],
    ["A CLI that counts words", { language: "javascript" }],
    ["Write a function that checks whether a string is a palindrome", { language: "typescript" }],
  ])("verifies %s (%j) with its tests passing in the sandbox", async (prompt, metadata) => {
    const res = await postJson(`${stack.edge.url}/api/generate`, { prompt, metadata: { ...metadata, verify: true } });
    expect(res.status, JSON.stringify(res.body).slice(0, 2000)).toBe(200);
    const verification = res.body.verification;
    expect(res.body.verified, JSON.stringify(verification).slice(0, 4000)).toBe(true);
    expect(verification).toMatchObject({ status: "passed", repairs: 0, tests: { failed: 0 } });
    expect(verification.tests.passed).toBeGreaterThan(0);
    const round = verification.rounds[0];
    expect(round.report).toBe("junit");
    expect(round.steps.map((s: { name: string }) => s.name)).toEqual(["typecheck", "test"]);
    expect(round.cpu_ms).toBeGreaterThan(0);
    expect(round.peak_memory_bytes).toBeGreaterThan(1_000_000);

    const id = res.body.pipeline_id;
    const manifest = await getJson(`${stack.edge.url}/api/pipelines/${id}/artifacts`);
    expect(manifest.body).toMatchObject({ verified: true, verification: { status: "passed" } });
    const tar = Buffer.from(await (await fetch(`${stack.edge.url}/api/pipelines/${id}/artifacts.tar`)).arrayBuffer());
    expect(tar.includes(".atomic/verification.json")).toBe(true);
  });
});

describe.skipIf(!docker.available)("the repair loop with a scripted OpenAI-compatible model", () => {
  let stack: SandboxStack;
  let llm: ScriptedLlm;
  const agentId = `e2e-verified-scripted-${process.pid}`;
  const agentEnv = (socket: string) => ({
    ATOMIC_AGENT_ID: agentId,
    ATOMIC_IPC_SOCKET: socket,
    ATOMIC_SANDBOX_WARM: "1",
  });

  beforeAll(async () => {
    llm = await ScriptedLlm.start();
    stack = await startSandboxStack({ ATOMIC_AGENT_WAIT_MS: "20000", ATOMIC_AGENT_GRACE_MS: "1000" }, agentEnv, {
      ATOMIC_LLM_BASE_URL: llm.baseUrl,
      ATOMIC_LLM_MODEL: "scripted",
    });
  }, 300_000);
  afterAll(async () => {
    await stack?.stop();
    await llm?.close();
  });

  const BUGGY = "```python app.py\ndef add(a, b):\n    return a - b\n```\n";
  const FIXED = "```python app.py\ndef add(a, b):\n    return a + b\n```\n";
  const TESTS =
    "```python test_app.py\nfrom app import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\ndef test_zero():\n    assert add(0, 0) == 0\n```\n";
  const generate = (metadata: object) =>
    postJson(`${stack.edge.url}/api/generate`, {
      prompt: "Write a Python module app.py with add(a, b)",
      metadata: { language: "python", verify: true, ...metadata },
    });

  it("repairs a failing first answer: the repair request carries the failure, and the second answer verifies", async () => {
    llm.script(
      () => `Here it is.\n\n${BUGGY}\n${TESTS}`,
      (request) => {
        const text = userText(request);
        // The model is shown what failed, and the files as they are.
        expect(text).toContain("test_add");
        expect(text).toContain("assert -1 == 5");
        expect(text).toContain("return a - b");
        return `Fixed the sign.\n\n${FIXED}`;
      },
    );
    const res = await generate({});
    expect(llm.failures).toEqual([]);
    expect(res.status, JSON.stringify(res.body).slice(0, 2000)).toBe(200);
    expect(res.body).toMatchObject({
      verified: true,
      verification: { status: "passed", repairs: 1, tests: { passed: 2, failed: 0, skipped: 0 } },
    });
    const [first, second] = res.body.verification.rounds;
    expect(first).toMatchObject({ round: 0, passed: false, tests: { passed: 1, failed: 1 } });
    expect(first.failures[0].name).toContain("test_add");
    expect(second).toMatchObject({ round: 1, passed: true });
    expect(res.body.content).toContain("return a + b");
    expect(res.body.content).toContain("def test_zero");
    expect(llm.streamed).toHaveLength(2);
  });

  it("ends verified: false after max_repairs when the model never fixes it, with every round recorded", async () => {
    llm.script(
      () => `${BUGGY}\n${TESTS}`,
      () => BUGGY,
    );
    const res = await generate({ max_repairs: 1 });
    expect(llm.failures).toEqual([]);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      state: "COMPLETED",
      verified: false,
      verification: { status: "failed", repairs: 1, max_repairs: 1, tests: { passed: 1, failed: 1 } },
    });
    expect(res.body.verification.rounds.map((r: { passed: boolean }) => r.passed)).toEqual([false, false]);
    expect(res.body.artifacts.count).toBe(2);
  });

  it("rejects a repair's change to a pinned test and verifies against the pinned text", async () => {
    const pinned = {
      path: "test_pinned.py",
      content: "from app import add\n\n\ndef test_pinned():\n    assert add(10, 5) == 15\n",
    };
    llm.script(
      (request) => {
        // The pinned test is shown to the model with the request.
        expect(userText(request)).toContain("assert add(10, 5) == 15");
        return BUGGY;
      },
      () => `${FIXED}\n\`\`\`python test_pinned.py\ndef test_pinned():\n    assert True\n\`\`\`\n`,
    );
    const res = await generate({ tests: [pinned] });
    expect(llm.failures).toEqual([]);
    expect(res.body).toMatchObject({
      verified: true,
      verification: { status: "passed", repairs: 1, pinned: ["test_pinned.py"] },
    });
    expect(res.body.verification.rounds[1].rejected_changes).toEqual(["test_pinned.py"]);
    const file = await fetch(`${stack.edge.url}/api/pipelines/${res.body.pipeline_id}/artifacts/test_pinned.py`);
    expect(await file.text()).toBe(pinned.content);
  });

  it("records a test command that tries to leave the sandbox as a failed run, and answers", async () => {
    llm.script(() => `${FIXED}\n${TESTS}`);
    const res = await generate({
      max_repairs: 0,
      test_command: "cat /etc/shadow; wget -q -T 2 -O- http://1.1.1.1/ ; touch /usr/bin/escaped && echo escaped",
    });
    expect(res.status).toBe(200);
    const round = res.body.verification.rounds[0];
    expect(res.body).toMatchObject({ verified: false, verification: { status: "failed", repairs: 0 } });
    expect(round.passed).toBe(false);
    const test = round.steps.find((s: { name: string }) => s.name === "test");
    expect(test.exit_code).not.toBe(0);
    expect(test.output).not.toContain("escaped\n");
    expect(test.output).toMatch(/Read-only file system|Permission denied/);
  });

  it("survives a host-agent killed during a test run: the round runs again and the verdict is honest", async () => {
    const SLOW_TESTS =
      "```python test_app.py\nimport time\nfrom app import add\n\n\ndef test_add():\n    time.sleep(4)\n    assert add(2, 3) == 5\n```\n";
    llm.script(() => `${FIXED}\n${SLOW_TESTS}`);
    const started = await postJson(`${stack.edge.url}/api/generate`, {
      prompt: "Write a Python module app.py with add(a, b)",
      metadata: { language: "python", verify: true },
      async: true,
    });
    const id = started.body.pipeline_id;
    await until(
      () => getJson(`${stack.edge.url}/api/pipelines/${id}`),
      (r) => r.body.state === "VERIFYING",
      60_000,
      50,
    );
    // Let the container start its tests, then kill the host-agent hard.
    await new Promise((r) => setTimeout(r, 1500));
    stack.agent.kill("SIGKILL");
    await stack.agent.exited;
    stack.agent = startHostAgent(stack.edge, agentEnv(stack.python.socket));
    const view = await finished(stack, id);
    expect(view.body).toMatchObject({
      state: "COMPLETED",
      verified: true,
      verification: { status: "passed", repairs: 0 },
    });
    const events = await eventsOf(stack, id);
    expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i + 1));
    const verifying = events
      .filter((e) => e.event === "stage" && e.data.stage === "VERIFYING")
      .map((e) => e.data.status);
    expect(verifying).toContain("restarted");
    // One verdict per round that ran to the end: the killed run left none.
    expect(events.filter((e) => e.event === "verification")).toHaveLength(1);
    expect(events.filter((e) => e.event === "chunk" && e.data.is_final)).toHaveLength(1);
  }, 120_000);
});
