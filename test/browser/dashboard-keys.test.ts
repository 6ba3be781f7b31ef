import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, openPage, type WatchedPage } from "../support/browser.ts";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent } from "../support/fake-agent.ts";
import { postJson } from "../support/http.ts";

/**
 * The dashboard of an edge with API keys, in a real Chromium: it shows only health until it has a
 * key, refuses a wrong one, keeps a good one for the browser session only, and shows a key its own
 * pipelines (an operator's key, everyone's). A scripted host-agent links, so the pool has one.
 */
const KEY_A = "dashboard-key-a";
const KEY_B = "dashboard-key-b";
const OPERATOR = "dashboard-key-operator";

let edge: EdgeHandle;
let agent: FakeAgent;
let browser: Browser;
const pipelines: Record<string, string> = {};

beforeAll(async () => {
  [edge, browser] = await Promise.all([
    startEdge({ ATOMIC_API_KEYS: `${KEY_A},${KEY_B}`, ATOMIC_OPERATOR_KEYS: OPERATOR }),
    launchChromium(),
  ]);
  agent = await FakeAgent.link(edge, { id: "dashboard-keys-agent", capacity: 8 });
  for (const [name, key] of [
    ["a", KEY_A],
    ["b", KEY_B],
  ] as const) {
    const res = await postJson(
      `${edge.url}/api/generate`,
      { prompt: `the pipeline of key ${name}`, async: true },
      { Authorization: `Bearer ${key}` },
    );
    expect(res.status).toBe(202);
    pipelines[name] = String(res.body.pipeline_id);
  }
}, 120_000);

afterAll(async () => {
  agent?.close();
  await browser?.close();
  await edge?.dispose();
});

async function signIn(watched: WatchedPage, key: string): Promise<void> {
  await watched.page.getByLabel("API key").fill(key);
  await watched.page.getByRole("button", { name: "Use key" }).click();
}

describe("the dashboard of an edge with API keys", () => {
  it("asks for a key, shows nothing but health before it has one, and refuses a wrong key", async () => {
    const watched = await openPage(browser);
    const page = watched.page;
    await page.goto(`${edge.url}/`);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await page.getByRole("heading", { name: "Health" }).waitFor();
    expect(await page.getByRole("heading", { name: "Host-agents" }).count()).toBe(0);
    expect(await page.getByText("dashboard-keys-agent").count()).toBe(0);
    await watched.screenshot("sign-in");

    await signIn(watched, "not-a-key");
    await page.getByText(/unknown API key/).waitFor();
    expect(await page.getByRole("heading", { name: "Host-agents" }).count()).toBe(0);
    expect(await page.evaluate("sessionStorage.length")).toBe(0);
    // The refused key's 401s are the browser's own console lines; nothing else went wrong.
    expect(watched.problems.filter((p) => !/401/.test(p))).toEqual([]);
    await watched.close();
  });

  it("keeps a good key for the browser session only and shows that key its own pipelines", async () => {
    const watched = await openPage(browser);
    const page = watched.page;
    await page.goto(`${edge.url}/#/pipelines`);
    await signIn(watched, KEY_A);
    await page.getByRole("link", { name: pipelines["a"]! }).waitFor();
    expect(await page.getByRole("link", { name: pipelines["b"]! }).count()).toBe(0);
    expect(page.url()).not.toContain(KEY_A);
    expect(await page.evaluate("localStorage.length")).toBe(0);
    expect(await page.evaluate("JSON.stringify(Object.values(sessionStorage))")).toContain(KEY_A);

    // Another tab of the same session keeps it; a new session (context) asks again.
    const sameSession = await watched.context.newPage();
    await sameSession.goto(`${edge.url}/`);
    await sameSession.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    await watched.close();
    const fresh = await openPage(browser);
    await fresh.page.goto(`${edge.url}/`);
    await fresh.page.getByRole("heading", { name: "Sign in" }).waitFor();
    await fresh.close();
  });

  it("shows an operator's key every key's pipelines and the pool's host-agent", async () => {
    const watched = await openPage(browser);
    const page = watched.page;
    await page.goto(`${edge.url}/`);
    await signIn(watched, OPERATOR);
    await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    await page.getByText("dashboard-keys-agent").first().waitFor();
    // Each key's running pipelines, by the key's id (never the key).
    const tenants = page.getByRole("region", { name: "Pipelines per API key" });
    await tenants.waitFor();
    expect(await tenants.getByRole("row").count()).toBe(3);
    expect(await tenants.textContent()).not.toContain("dashboard-key-a");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Pipelines" }).click();
    await page.getByRole("link", { name: pipelines["a"]! }).waitFor();
    await page.getByRole("link", { name: pipelines["b"]! }).waitFor();
    expect(watched.problems).toEqual([]);
    await watched.close();
  });
});
