import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { dockerGate } from "../../host-agent/src/sandbox/test-support.ts";
import { AtomicClient } from "../../sdk/src/index.ts";
import { ArtifactManifest, type ClientEvent } from "../../shared/src/index.ts";
import { accessibilityViolations, launchChromium, openPage, type WatchedPage } from "../support/browser.ts";
import { removeDir } from "../support/processes.ts";
import { getJson, postJson, until } from "../support/http.ts";
import { startSandboxStack, type SandboxStack } from "../support/sandbox-stack.ts";

const docker = await dockerGate("test/browser/dashboard.test.ts");

/**
 * The dashboard in a real Chromium against the whole product: the edge serving the page, the
 * host-agent CLI, the Python agent (offline provider, slowed so a pipeline streams for a few
 * seconds) and the Docker sandbox. Each view is looked at as a user would, by role and text, and
 * saved as a screenshot.
 */
let stack: SandboxStack;
let browser: Browser;
let client: AtomicClient;
const AGENT_ID = `browser-agent-${process.pid}`;

beforeAll(async () => {
  if (!docker.available) return;
  [stack, browser] = await Promise.all([
    startSandboxStack(
      { ATOMIC_AGENT_WAIT_MS: "20000" },
      (socket) => ({
        ATOMIC_AGENT_ID: AGENT_ID,
        ATOMIC_IPC_SOCKET: socket,
        ATOMIC_AGENT_LABELS: "region=test,gpu=none",
        ATOMIC_SANDBOX_WARM: "1",
      }),
      { ATOMIC_LLM_OFFLINE_DELAY_MS: "4" },
    ),
    launchChromium(),
  ]);
  client = new AtomicClient({ baseUrl: stack.edge.url });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function start(prompt: string, metadata: Record<string, unknown> = { language: "python" }): Promise<string> {
  const res = await postJson(`${stack.edge.url}/api/generate`, { prompt, async: true, metadata });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return String(res.body.pipeline_id);
}

async function finalState(id: string): Promise<string> {
  const res = await until(
    () => getJson(`${stack.edge.url}/api/pipelines/${id}`),
    (r) => ["COMPLETED", "FAILED", "CANCELLED"].includes(r.body.state),
    60_000,
  );
  return String(res.body.state);
}

/** The pipeline's final program, as any client following it would get it. */
async function resultContent(id: string): Promise<string> {
  let content: string | null = null;
  for await (const event of client.pipelines.events(id) as AsyncGenerator<ClientEvent>) {
    if (event.type === "result") content = event.content;
  }
  if (content === null) throw new Error(`pipeline ${id} has no result`);
  return content;
}

async function open(path: string, options: Parameters<typeof openPage>[1] = {}): Promise<WatchedPage> {
  const watched = await openPage(browser, options);
  const answer = await watched.page.goto(`${stack.edge.url}/${path}`);
  expect(answer?.status()).toBe(200);
  return watched;
}

function noProblems(watched: WatchedPage): void {
  expect(watched.problems).toEqual([]);
  expect(watched.dialogs).toEqual([]);
}

describe.runIf(docker.available)("the dashboard in Chromium", () => {
  it("serves the page with a strict CSP and shows a newcomer the linked host-agent and how to send a first prompt", async () => {
    const watched = await openPage(browser);
    const answer = await watched.page.goto(`${stack.edge.url}/`);
    const headers = answer!.headers();
    expect(headers["content-security-policy"]).toContain("default-src 'none'");
    expect(headers["content-security-policy"]).toContain("script-src 'self'");
    expect(headers["content-security-policy"]).not.toContain("unsafe-inline");
    expect(headers["x-content-type-options"]).toBe("nosniff");
    const page = watched.page;
    await expect(page.getByRole("heading", { level: 1, name: "Overview" }).isVisible()).resolves.toBe(true);
    const agents = page.getByRole("region", { name: "Host-agents table" });
    await agents.getByText(AGENT_ID).waitFor();
    await agents.getByText("region=test").waitFor();
    await page.getByRole("heading", { name: "Send your first prompt" }).waitFor();
    await page.getByText(`${stack.edge.url}/api/generate`).first().waitFor();
    await watched.screenshot("overview-first-run");
    noProblems(watched);
    await watched.close();
  });

  it("lists a new pipeline live, streams its tokens on its page, then shows its files and a bundle whose bytes match the manifest", async () => {
    const watched = await open("#/pipelines");
    const page = watched.page;
    await page.getByRole("heading", { level: 1, name: "Pipelines" }).waitFor();
    const sent = Date.now();
    const id = await start("Build a REST API for a todo list");
    // No reload: the pool feed tells the page, which re-reads the list.
    const link = page.getByRole("link", { name: id });
    await link.waitFor({ timeout: 10_000 });
    await watched.screenshot("pipelines");
    await link.click();
    await page.getByRole("heading", { level: 1, name: `Pipeline ${id}` }).waitFor();

    // Tokens arrive while the pipeline is still running: the page itself is watched, its state
    // badge and its character count read together on every change, so a loaded machine's slow
    // polling cannot miss the moment (and a failed pipeline names the states it went through).
    const output = page.locator("pre.output");
    const atOpen = `${(await getJson(`${stack.edge.url}/api/pipelines/${id}`)).body.state} ${Date.now() - sent} ms after it was sent`;
    // A string, evaluated in the page: `document` and `MutationObserver` are the page's.
    await page.evaluate(`(() => {
      const seen = [];
      const record = () => {
        const state = document.querySelector("section[aria-labelledby=summary-heading] .badge")?.textContent ?? "";
        const chars = Number.parseInt(document.querySelector("pre.output + p")?.textContent ?? "", 10);
        const last = seen.at(-1);
        if (last === undefined || last.state !== state || last.chars !== chars) seen.push({ state, chars });
      };
      record();
      new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true });
      window.outputSeen = seen;
    })()`);
    const Seen = z.array(z.object({ state: z.string(), chars: z.number().nullable() }));
    const seenByPage = async () =>
      Seen.parse(JSON.parse(String(await page.evaluate("JSON.stringify(window.outputSeen)"))));
    const streamed = (s: { state: string; chars: number | null }) => s.state === "GENERATING" && (s.chars ?? 0) > 0;
    const pastGenerating = (s: { state: string }) => !["", "QUEUED", "PARSING", "GENERATING"].includes(s.state);
    const seen = await until(seenByPage, (all) => all.some(streamed) || all.some(pastGenerating), 120_000, 100);
    await watched.screenshot("pipeline-streaming");
    const states = [...new Set(seen.map((s) => s.state))].join(" → ");
    expect(
      seen.some(streamed),
      `the output grew while the page said GENERATING (states shown: ${states}; the API said ${atOpen} when the page opened)`,
    ).toBe(true);

    expect(await finalState(id)).toBe("COMPLETED");
    const content = await resultContent(id);
    await page.getByRole("heading", { name: "Artifacts" }).waitFor();
    await until(
      async () => (await output.textContent()) ?? "",
      (text) => text === content,
      10_000,
    );

    const manifest = ArtifactManifest.parse((await getJson(`${stack.edge.url}/api/pipelines/${id}/artifacts`)).body);
    expect(manifest.files.length).toBeGreaterThan(1);
    const files = page.getByRole("navigation", { name: "Files" });
    const fileButton = (path: string) => files.locator(`button[title="${path}"]`);
    for (const file of manifest.files) {
      await fileButton(file.path).waitFor();
      expect(await fileButton(file.path).textContent()).toBe(file.path.split("/").at(-1));
    }
    const first = manifest.files.find((f) => !f.path.includes("/")) ?? manifest.files[0]!;
    await fileButton(first.path).click();
    const viewer = page.getByLabel(`Contents of ${first.path}`);
    await viewer.waitFor();
    const served = await (await fetch(`${stack.edge.url}/api/pipelines/${id}/artifacts/${first.path}`)).text();
    expect(await viewer.textContent()).toBe(served);
    await watched.screenshot("pipeline-artifacts");

    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download bundle" }).click(),
    ]);
    const saved = join(mkdtempSync(join(tmpdir(), "atomic-dashboard-download-")), "bundle.tar");
    await download.saveAs(saved);
    const extracted = mkdtempSync(join(tmpdir(), "atomic-dashboard-bundle-"));
    execFileSync("tar", ["-xf", saved, "-C", extracted], { env: { ...process.env, LC_ALL: "C.UTF-8" } });
    for (const file of manifest.files) {
      const bytes = readFileSync(join(extracted, file.path));
      expect(bytes.length, file.path).toBe(file.size);
      expect(createHash("sha256").update(bytes).digest("hex"), file.path).toBe(file.sha256);
    }
    removeDir(extracted);

    // The overview counts it: the charts of the last minutes and the totals.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Overview" }).click();
    const totals = page.getByRole("region", { name: "Totals" });
    await until(
      async () => (await totals.textContent()) ?? "",
      (text) => /Completed\s*[1-9]/.test(text),
      10_000,
    );
    await watched.screenshot("overview");
    noProblems(watched);
    await watched.close();
  }, 90_000);

  it("cancels a running pipeline from its page", async () => {
    const id = await start("Create a REST API for user management with tests", { language: "typescript" });
    const watched = await open(`#/pipelines/${id}`);
    const page = watched.page;
    const cancel = page.getByRole("button", { name: "Cancel pipeline" });
    await cancel.waitFor();
    await cancel.click();
    expect(await finalState(id)).toBe("CANCELLED");
    await page.getByText("CANCELLED").first().waitFor();
    await expect(cancel.isVisible()).resolves.toBe(false);
    await watched.screenshot("pipeline-cancelled");
    noProblems(watched);
    await watched.close();
  });

  it("shows a prompt carrying markup as text and runs none of it", async () => {
    const hostile = `Hello <script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2; alert(2)">`;
    const id = await start(hostile);
    const watched = await open("#/pipelines");
    const page = watched.page;
    const row = page.getByRole("row").filter({ has: page.getByRole("link", { name: id }) });
    await row.waitFor();
    await row.getByText(hostile).waitFor();
    await page.getByRole("link", { name: id }).click();
    await page.getByRole("heading", { level: 1, name: `Pipeline ${id}` }).waitFor();
    await page.getByText(hostile).first().waitFor();
    expect(await finalState(id)).toBe("COMPLETED");
    expect(await page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.locator("script").count()).toBe(1);
    noProblems(watched);
    await watched.close();
  });

  it("shows each verification round with its test counts and failures, markup in them as text", async () => {
    const pinned = ["def test_always_fails():", '    assert "<b onmouseover=alert(1)>bold</b>" == "plain"', ""].join(
      "\n",
    );
    const id = await start("Write a Python function fibonacci(n)", {
      language: "python",
      verify: true,
      max_repairs: 1,
      tests: [{ path: "test_pinned.py", content: pinned }],
    });
    const watched = await open(`#/pipelines/${id}`);
    const page = watched.page;
    expect(await finalState(id)).toBe("COMPLETED");
    const view = (await getJson(`${stack.edge.url}/api/pipelines/${id}`)).body;
    expect(view.verified).toBe(false);
    const rounds = view.verification.rounds as Array<{ round: number; tests: { passed: number; failed: number } }>;
    expect(rounds.length).toBe(2);
    const section = page.getByRole("region", { name: "Verification" });
    for (const round of rounds) {
      await section.getByRole("heading", { name: `Round ${round.round}: failed` }).waitFor();
      await section.getByText(`${round.tests.passed} passed, ${round.tests.failed} failed`).first().waitFor();
    }
    await section.getByText("after 1 of 1 repairs").waitFor();
    await section.getByText("test_always_fails").first().waitFor();
    await section.getByText("<b onmouseover=alert(1)>bold</b>").first().waitFor();
    expect(await section.locator("b").count()).toBe(0);
    await watched.screenshot("pipeline-verification");
    noProblems(watched);
    await watched.close();
  });

  it("runs code in the sandbox from the form and shows its output, exit status and time", async () => {
    const watched = await open("#/sandbox");
    const page = watched.page;
    await page.getByRole("heading", { level: 1, name: "Sandbox" }).waitFor();
    await page.getByLabel("Language").selectOption("python");
    await page
      .getByLabel("Code", { exact: true })
      .fill('import sys\nprint("hello from the sandbox")\nprint("to stderr", file=sys.stderr)\nsys.exit(3)');
    await page.getByRole("button", { name: "Run" }).click();
    const result = page.getByRole("region", { name: "Result" });
    await result.getByText("hello from the sandbox").waitFor({ timeout: 30_000 });
    await result.getByText("to stderr").waitFor();
    const facts = (await result.locator("dl").textContent()) ?? "";
    expect(facts).toMatch(/Exit code\s*3/);
    expect(facts).toMatch(/Duration\s*\d+(\.\d+)?\s*(ms|s)/);
    expect(facts).toMatch(/Timed out\s*no/);
    await watched.screenshot("sandbox");
    noProblems(watched);
    await watched.close();
  });

  it("is usable by keyboard and fits a 390 px wide screen", async () => {
    const watched = await open("", { width: 390, height: 844 });
    const page = watched.page;
    await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    await page.getByText(AGENT_ID).first().waitFor();
    const overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth");
    expect(overflow).toBeLessThanOrEqual(0);
    await watched.screenshot("overview-narrow");
    let reached = false;
    for (let i = 0; i < 30 && !reached; i++) {
      await page.keyboard.press("Tab");
      reached = (await page.evaluate("document.activeElement?.textContent?.trim()")) === "Sandbox";
    }
    expect(reached, "Tab reaches the Sandbox link").toBe(true);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Sandbox" }).waitFor();
    noProblems(watched);
    await watched.close();
  });

  it("meets WCAG 2.1 AA in every view (axe-core: contrast, names, labels)", async () => {
    const [finished] = (await getJson(`${stack.edge.url}/api/pipelines?state=COMPLETED&limit=1`)).body.pipelines;
    for (const path of ["", "#/pipelines", `#/pipelines/${String(finished.pipeline_id)}`, "#/sandbox"]) {
      const watched = await open(path, { bypassCSP: true });
      await watched.page.getByRole("heading", { level: 1 }).waitFor();
      await watched.page.waitForLoadState("networkidle");
      const violations = await accessibilityViolations(watched.page);
      expect(violations, `${path || "/"}: ${JSON.stringify(violations, null, 1)}`).toEqual([]);
      await watched.close();
    }
  });
});
