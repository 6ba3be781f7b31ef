import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebhookEvent } from "../../shared/src/index.ts";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent } from "../support/fake-agent.ts";
import { getJson, postJson, until } from "../support/http.ts";

/**
 * Completion webhooks against the real Worker in workerd: a real HTTP receiver in the test checks
 * every delivery's signature with the `standardwebhooks` package (an implementation nobody here
 * wrote), answers as each test scripts it, and records what arrived.
 */
const SECRET = `whsec_${btoa("the operator's webhook secret!!!")}`;
const KEY_SECRET = `whsec_${btoa("key b has a webhook secret too!!")}`;
const PROGRAM = "```python main.py\nprint(1)\n```\n";

interface Delivery {
  path: string;
  id: string;
  verified: boolean;
  event: WebhookEvent | null;
  raw: string;
  headers: Record<string, string>;
}

/** A receiver that verifies signatures with `secret` and answers each path with its script of statuses. */
class Receiver {
  readonly deliveries: Delivery[] = [];
  readonly #scripts = new Map<string, number[]>();
  #server!: Server;
  url = "";

  async start(secrets: Record<string, string>): Promise<void> {
    this.#server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      req.on("end", () => {
        const path = req.url ?? "/";
        const secret = secrets[path.split("/")[1] ?? ""] ?? SECRET;
        const headers = {
          "webhook-id": String(req.headers["webhook-id"]),
          "webhook-timestamp": String(req.headers["webhook-timestamp"]),
          "webhook-signature": String(req.headers["webhook-signature"]),
        };
        let event: WebhookEvent | null = null;
        try {
          event = WebhookEvent.parse(new Webhook(secret).verify(body, headers));
        } catch {
          // A signature that does not verify (or a body that is not an event): recorded as unverified.
        }
        const verified = event !== null;
        this.deliveries.push({ path, id: headers["webhook-id"], verified, event, raw: body, headers });
        const script = this.#scripts.get(path) ?? [];
        res.writeHead(script.shift() ?? 200).end("ok");
      });
    });
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  answer(path: string, statuses: number[]): void {
    this.#scripts.set(path, statuses);
  }

  at(path: string): Delivery[] {
    return this.deliveries.filter((d) => d.path === path);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

let edge: EdgeHandle;
let agent: FakeAgent;
const receiver = new Receiver();

beforeAll(async () => {
  await receiver.start({ "key-b": KEY_SECRET });
  edge = await startEdge({
    ATOMIC_API_KEYS: "hook-key-a,hook-key-b",
    ATOMIC_WEBHOOK_SECRET: SECRET,
    ATOMIC_KEY_WEBHOOKS: JSON.stringify({ "hook-key-b": { url: `${receiver.url}/key-b/hook`, secret: KEY_SECRET } }),
    ATOMIC_WEBHOOK_RETRY_BASE_MS: "200",
    ATOMIC_AGENT_WAIT_MS: "1000",
  });
  agent = await FakeAgent.link(edge, { id: "webhook-agent", capacity: 10 });
});
afterAll(async () => {
  agent?.close();
  await edge?.dispose();
  await receiver.stop();
});

const asA = { Authorization: "Bearer hook-key-a" };

async function start(body: Record<string, unknown>, headers: Record<string, string> = asA): Promise<string> {
  const res = await postJson(`${edge.url}/api/generate`, { async: true, ...body }, headers);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return String(res.body.pipeline_id);
}

async function view(id: string, headers: Record<string, string> = asA) {
  return (await getJson(`${edge.url}/api/pipelines/${id}`, headers)).body;
}

describe("completion webhooks (Standard Webhooks)", () => {
  it("delivers a signed pipeline.completed event once, with a summary and links, and shows the attempt", async () => {
    const path = "/completed";
    const id = await start({ prompt: "tell me when done", metadata: { webhook: `${receiver.url}${path}` } });
    agent.generate(await agent.nextJob(), [PROGRAM]);
    await until(
      async () => receiver.at(path).length,
      (n) => n >= 1,
    );
    const [delivery] = receiver.at(path);
    expect(delivery!.verified).toBe(true);
    expect(delivery!.id).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(delivery!.event).toMatchObject({
      type: "pipeline.completed",
      data: { pipeline_id: id, state: "COMPLETED", files: 1, error: null, verified: false },
    });
    expect(delivery!.event!.data.links.self).toBe(`${edge.url}/api/pipelines/${id}`);
    const shown = await until(
      () => view(id),
      (v) => v.webhook?.status === "delivered",
    );
    expect(shown.webhook).toMatchObject({
      url: `${receiver.url}${path}`,
      delivery_id: delivery!.id,
      event: "pipeline.completed",
      next_attempt_at: null,
      attempts: [{ status: 200, error: null }],
    });
    // Nothing more comes: one delivery per event.
    await new Promise((r) => setTimeout(r, 800));
    expect(receiver.at(path)).toHaveLength(1);
    expect(JSON.stringify(shown)).not.toContain(SECRET.slice(6));
  });

  it("retries with backoff after 500s, with the same webhook-id, until a 200", async () => {
    const path = "/flaky";
    receiver.answer(path, [500, 503]);
    const id = await start({ prompt: "flaky receiver", metadata: { webhook: `${receiver.url}${path}` } });
    agent.generate(await agent.nextJob(), [PROGRAM]);
    const shown = await until(
      () => view(id),
      (v) => v.webhook?.status === "delivered",
      15_000,
    );
    const deliveries = receiver.at(path);
    expect(deliveries.map((d) => d.verified)).toEqual([true, true, true]);
    expect(new Set(deliveries.map((d) => d.id)).size).toBe(1);
    expect(shown.webhook.attempts.map((a: { status: number }) => a.status)).toEqual([500, 503, 200]);
    expect(shown.webhook.attempts[0].error).toContain("500");
    // The waits grow: 200 ms then 1.2 s (1 and 6 times ATOMIC_WEBHOOK_RETRY_BASE_MS).
    const times = shown.webhook.attempts.map((a: { at: string }) => Date.parse(a.at));
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(200);
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(1_200);
  });

  it("tells of failed and cancelled pipelines too", async () => {
    const failedPath = "/failed";
    const failed = await start({
      prompt: "nobody takes this",
      metadata: { pool: "hookless", webhook: `${receiver.url}${failedPath}` },
    });
    const cancelledPath = "/cancelled";
    const cancelled = await start({ prompt: "cancel me", metadata: { webhook: `${receiver.url}${cancelledPath}` } });
    await agent.nextJob();
    expect((await postJson(`${edge.url}/api/pipelines/${cancelled}/cancel`, {}, asA)).status).toBe(200);
    await until(
      async () => receiver.at(failedPath).length + receiver.at(cancelledPath).length,
      (n) => n >= 2,
      10_000,
    );
    expect(receiver.at(failedPath)[0]!.event).toMatchObject({
      type: "pipeline.failed",
      data: { pipeline_id: failed, state: "FAILED", error: { code: "no_agent" } },
    });
    expect(receiver.at(cancelledPath)[0]!.event).toMatchObject({
      type: "pipeline.cancelled",
      data: { pipeline_id: cancelled, state: "CANCELLED", error: { code: "cancelled" } },
    });
    expect([...receiver.at(failedPath), ...receiver.at(cancelledPath)].every((d) => d.verified)).toBe(true);
  });

  it("uses an API key's own webhook and secret when the request names none", async () => {
    const id = await start({ prompt: "key b's pipeline" }, { Authorization: "Bearer hook-key-b" });
    agent.generate(await agent.nextJob(), [PROGRAM]);
    await until(
      async () => receiver.at("/key-b/hook").length,
      (n) => n >= 1,
    );
    const [delivery] = receiver.at("/key-b/hook");
    expect(delivery!.verified).toBe(true);
    expect(delivery!.event?.data.pipeline_id).toBe(id);
    // Signed with key b's secret (the receiver verified it with that one), not the operator's.
    expect(() => new Webhook(SECRET).verify(delivery!.raw, delivery!.headers)).toThrow();
    // A key without a webhook of its own gets none.
    const quiet = await start({ prompt: "no webhook" });
    agent.generate(await agent.nextJob(), [PROGRAM]);
    await until(
      () => view(quiet),
      (v) => v.state === "COMPLETED",
    );
    expect((await view(quiet)).webhook).toBeNull();
  });

  it("refuses a bad webhook URL at request time, naming what is wrong", async () => {
    const cases: Array<[string, string]> = [
      ["ftp://example.com/hook", "http or https"],
      ["https://user:pass@example.com/hook", "user or password"],
      ["not a url", "not a URL"],
      [`https://example.com/${"x".repeat(2100)}`, "longer than 2048"],
    ];
    for (const [url, message] of cases) {
      const res = await postJson(
        `${edge.url}/api/generate`,
        { prompt: "x", async: true, metadata: { webhook: url } },
        asA,
      );
      expect(res.status, url).toBe(400);
      expect(res.body.error.message).toContain(message);
    }
  });
});

describe("webhooks on an edge without a signing secret", () => {
  let bare: EdgeHandle;
  beforeAll(async () => {
    bare = await startEdge();
  });
  afterAll(async () => bare?.dispose());

  it("refuses metadata.webhook, since nothing could sign its deliveries", async () => {
    const res = await postJson(`${bare.url}/api/generate`, {
      prompt: "x",
      async: true,
      metadata: { webhook: "https://example.com/hook" },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain("ATOMIC_WEBHOOK_SECRET");
  });
});
