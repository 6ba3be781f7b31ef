import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, openPage } from "../support/browser.ts";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent } from "../support/fake-agent.ts";
import { getJson, postJson, until } from "../support/http.ts";

/**
 * The pipelines view's filters and paging, and how a failed pipeline's error reads, in a real
 * Chromium against the real edge with a scripted host-agent (it takes jobs and never answers, so
 * pipelines stay active as long as the test needs).
 */
let edge: EdgeHandle;
let agent: FakeAgent;
let browser: Browser;
const ids: string[] = [];
/** A webhook receiver that answers 500 once, then 200. */
let receiver: Server;
let receiverUrl = "";
let received = 0;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(received++ === 0 ? 500 : 200).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  [edge, browser] = await Promise.all([
    startEdge({
      ATOMIC_AGENT_WAIT_MS: "1000",
      ATOMIC_WEBHOOK_SECRET: `whsec_${btoa("a secret for the dashboard test!")}`,
      ATOMIC_WEBHOOK_RETRY_BASE_MS: "100",
    }),
    launchChromium(),
  ]);
  agent = await FakeAgent.link(edge, { id: "dashboard-lists-agent", capacity: 50 });
  for (let i = 0; i < 28; i++) {
    const res = await postJson(`${edge.url}/api/generate`, { prompt: `paging ${i}`, async: true });
    expect(res.status).toBe(202);
    ids.push(String(res.body.pipeline_id));
  }
}, 120_000);

afterAll(async () => {
  agent?.close();
  await browser?.close();
  await edge?.dispose();
  await new Promise((resolve) => receiver?.close(resolve));
});

describe("the dashboard's pipeline list", () => {
  it("pages through the pipelines newest first and filters them by state", async () => {
    const watched = await openPage(browser);
    const page = watched.page;
    await page.goto(`${edge.url}/#/pipelines`);
    const table = page.getByRole("region", { name: "Pipelines table" });
    await table.getByRole("link", { name: ids.at(-1)! }).waitFor();
    const firstPage = await table.getByRole("link").allTextContents();
    // The page shows 25 rows.
    expect(firstPage).toEqual(ids.slice(-25).reverse());

    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Next page" }).click();
    await table.getByRole("link", { name: ids[2]! }).waitFor();
    expect(await table.getByRole("link").allTextContents()).toEqual(ids.slice(0, 3).reverse());
    expect(await page.getByRole("link", { name: "Next page" }).count()).toBe(0);
    await page.getByRole("link", { name: "First page" }).click();
    await table.getByRole("link", { name: ids.at(-1)! }).waitFor();

    const filter = page.getByRole("navigation", { name: "State filter" });
    await filter.getByRole("link", { name: "Completed" }).click();
    await page.getByText("No pipelines here yet.").waitFor();
    await filter.getByRole("link", { name: "Active" }).click();
    await table.getByRole("link", { name: ids.at(-1)! }).waitFor();
    expect(await table.getByRole("link").count()).toBe(25);
    expect(watched.problems).toEqual([]);
    await watched.close();
  });

  it("shows a failed pipeline's error with its code and message", async () => {
    // No host-agent serves this pool: the pipeline fails with no_agent after ATOMIC_AGENT_WAIT_MS.
    const res = await postJson(`${edge.url}/api/generate`, {
      prompt: "nobody will take this",
      async: true,
      metadata: { pool: "nobody-here", webhook: receiverUrl },
    });
    const id = String(res.body.pipeline_id);
    const failed = await until(
      () => getJson(`${edge.url}/api/pipelines/${id}`),
      (r) => r.body.state === "FAILED",
      15_000,
    );
    const watched = await openPage(browser);
    const page = watched.page;
    await page.goto(`${edge.url}/#/pipelines/${id}`);
    const error = page.getByRole("region", { name: "Error" });
    await error.getByText("no_agent").waitFor();
    await error.getByText(String(failed.body.error.message)).waitFor();
    expect(await page.getByRole("button", { name: "Cancel pipeline" }).count()).toBe(0);
    // Its webhook: the receiver's 500, then the retry's 200 (the card looks again every 5 s).
    const webhook = page.getByRole("region", { name: "Webhook" });
    await webhook.getByText("delivered").waitFor({ timeout: 15_000 });
    const attempts = webhook.getByRole("region", { name: "Webhook attempts" });
    expect(await attempts.getByRole("cell").allTextContents()).toEqual(
      expect.arrayContaining(["1", "500", "2", "200"]),
    );
    await watched.screenshot("pipeline-failed");
    expect(watched.problems).toEqual([]);
    await watched.close();
  });
});
