import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { VerifyReport } from "../../shared/src/index.ts";
import { startEdge, type EdgeHandle } from "../../test/support/edge.ts";
import { FakeAgent } from "../../test/support/fake-agent.ts";
import { AtomicClient } from "../src/index.ts";
import { CLI, HAS_TMUX, Terminal } from "./cli-support.ts";

/**
 * `atomic generate` in a real terminal (tmux), against the real edge with a test playing the
 * host-agent: what a person sees while it runs (the tokens, one progress line) and at the end
 * (the stages, the verdict, the files' folder), and what Ctrl-C does.
 */

let edge: EdgeHandle;
let agent: FakeAgent;
let client: AtomicClient;
let terminal: Terminal | undefined;
let out: string;
beforeAll(async () => {
  edge = await startEdge({ ATOMIC_AGENT_WAIT_MS: "3000" });
  agent = await FakeAgent.link(edge, { kinds: ["llm.generate", "llm.repair", "sandbox.verify"], docker: true });
  client = new AtomicClient({ baseUrl: edge.url });
  out = mkdtempSync(join(tmpdir(), "atomic-cli-tty-"));
});
afterEach(() => {
  terminal?.close();
  terminal = undefined;
});
afterAll(async () => {
  agent?.close();
  await edge?.dispose();
  rmSync(out, { recursive: true, force: true });
});

const REPORT: VerifyReport = {
  passed: true,
  steps: [{ name: "test", command: "pytest", exit_code: 0, timed_out: false, duration_ms: 250, output: "" }],
  tests: { passed: 4, failed: 0, skipped: 0 },
  failures: [],
  report: "junit",
  duration_ms: 260,
  cpu_ms: null,
  peak_memory_bytes: null,
};

function start(...args: string[]): Terminal {
  return startWith({}, ...args);
}

function startWith(env: Record<string, string>, ...args: string[]): Terminal {
  terminal = new Terminal([process.execPath, CLI, ...args], { ATOMIC_URL: edge.url, ...env });
  return terminal;
}

/** The lines of `screen` that are the progress line. */
function progressLines(screen: string, hint: string): string[] {
  return screen.split("\n").filter((line) => line.includes(`· ${hint}`));
}

function pipelineOn(screen: string): string {
  const id = /pipeline ([0-9a-f-]{36})/.exec(screen)?.[1];
  if (id === undefined) throw new Error(`no pipeline id on the screen:\n${screen}`);
  return id;
}

// A person's terminal is part of the contract: without tmux this fails, it does not skip (.ci/run installs it).
if (!HAS_TMUX) throw new Error("the CLI's terminal tests need tmux: apt-get install -y tmux");

describe("atomic generate in a terminal", () => {
  it("streams the tokens above one progress line, then shows the stages, the verdict and the files' folder", async () => {
    const term = start("generate", "Add two numbers in Python", "--language", "python", "--verify", "--out", out);
    const job = await agent.nextJob();
    const tokens = [
      "Here it is:\n\n```python add.py\ndef add(a, b):\n",
      "    return a + b\n```\n\n```python test_add.py\nfrom add import add\n",
      "def test_add():\n    assert add(1, 2) == 3\n```\n",
    ];
    agent.token(job, 1, tokens[0] ?? "");
    let screen = await term.waitFor(/def add\(a, b\):\n. GENERATING · [\d.]+m?s · \d+ chars · Ctrl-C cancels$/);
    expect(progressLines(screen, "Ctrl-C cancels")).toHaveLength(1);
    agent.token(job, 2, tokens[1] ?? "");
    screen = await term.waitFor(/from add import add\n. GENERATING · .* Ctrl-C cancels$/);
    expect(progressLines(screen, "Ctrl-C cancels")).toHaveLength(1);
    agent.token(job, 3, tokens[2] ?? "");
    agent.result(job, 3, { chars: tokens.join("").length, finish_reason: "stop", provider: "test" });
    const verify = await agent.nextJob("sandbox.verify");
    await term.waitFor(/VERIFYING round 0 · .* Ctrl-C cancels/);
    agent.result(verify, 0, REPORT);

    const code = await term.exited().catch(async (error: unknown) => {
      const view = await client.pipelines.get(pipelineOn(term.screen()));
      throw new Error(`${String(error)}\nthe pipeline: ${JSON.stringify({ state: view.state, stages: view.stages })}`);
    });
    expect(code).toBe(0);
    screen = term.screen();
    expect(progressLines(screen, "Ctrl-C cancels")).toEqual([]);
    expect(screen).toContain("Here it is:\n\n```python add.py\ndef add(a, b):\n    return a + b");
    expect(screen).toContain("    assert add(1, 2) == 3");
    expect(screen).toContain("tests, round 0: passed (4 passed, 0 failed, 0 skipped)");
    expect(screen).toMatch(/✔ COMPLETED in \S+ · pipeline [0-9a-f-]{36}/);
    expect(screen).toMatch(/stages: PARSING \S+, GENERATING \S+, VERIFYING#0 \S+, PACKAGING \S+/);
    expect(screen).toContain("✔ verified: tests passed in the sandbox (4 passed, 0 failed, 0 skipped), no repairs");
    expect(screen).toContain(`files: 2 written to ${out}: add.py, test_add.py`);
    expect(readFileSync(join(out, "add.py"), "utf8")).toContain("return a + b");
  });

  it("Ctrl-C cancels the pipeline and exits 130", async () => {
    const term = start("generate", "Something long", "--language", "python");
    const job = await agent.nextJob();
    agent.token(job, 1, "import time\n");
    const screen = await term.waitFor(/GENERATING · .* Ctrl-C cancels/);
    const id = pipelineOn(screen);
    term.keys("C-c");
    const code = await term.exited();
    expect({ code, screen: term.screen() }).toMatchObject({ code: 130 });
    expect((await client.pipelines.get(id)).state).toBe("CANCELLED");
    const end = term.screen();
    expect(end).toContain("cancelling the pipeline");
    expect(end).toMatch(/✘ CANCELLED: cancelled: /);
    expect(progressLines(end, "Ctrl-C cancels")).toEqual([]);
  });

  it("with --detach, Ctrl-C leaves the pipeline running, says how to follow it and exits 130", async () => {
    const term = start("generate", "Something long", "--detach");
    const job = await agent.nextJob();
    agent.token(job, 1, "import time\n");
    const id = pipelineOn(await term.waitFor(/GENERATING · .* Ctrl-C detaches/));
    term.keys("C-c");
    expect(await term.exited()).toBe(130);
    expect(term.screen()).toContain(`detached: pipeline ${id} goes on; follow it with: atomic follow ${id}`);
    expect((await client.pipelines.get(id)).state).toBe("GENERATING");
    agent.result(job, 1, { chars: "import time\n".length, finish_reason: "stop", provider: "test" });
  });

  it("a second Ctrl-C exits at once, even while the first one's cancel waits for an edge that does not answer", async () => {
    const held: Socket[] = [];
    const silent = createServer((socket) => void held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const address = silent.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    try {
      const term = start("generate", "never answered", "--url", `http://127.0.0.1:${port}`);
      await term.waitFor(/connecting · .* Ctrl-C cancels/);
      term.keys("C-c");
      await term.waitFor("cancelling the pipeline… (Ctrl-C again exits at once)");
      term.keys("C-c");
      expect(await term.exited()).toBe(130);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("with NO_COLOR, a terminal gets plain lines: no spinner, no colour, no redrawn line", async () => {
    const term = startWith({ NO_COLOR: "1" }, "generate", "Hello in Python", "--language", "python");
    const job = await agent.nextJob();
    const text = "```python main.py\nprint('hello')\n```\n";
    agent.token(job, 1, text);
    agent.result(job, 1, { chars: text.length, finish_reason: "stop", provider: "test" });
    expect(await term.exited()).toBe(0);
    const screen = term.screen();
    expect(screen).toMatch(/^\[ *[\d.]+m?s\] pipeline [0-9a-f-]{36} queued \(priority normal, position \d+\)$/m);
    expect(screen).toMatch(/^\[ *[\d.]+m?s\] GENERATING started$/m);
    expect(screen).toContain("print('hello')");
    expect(screen).toMatch(/^COMPLETED in \S+ · pipeline /m);
    expect(screen).not.toContain("Ctrl-C cancels");
    expect(screen).not.toMatch(/[✔✘⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
    // eslint-disable-next-line no-control-regex
    expect(term.rawScreen()).not.toMatch(/\u001b\[/);
  });
});
