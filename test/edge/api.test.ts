import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent } from "../support/fake-agent.ts";
import { getJson, parseSse, postJson, until } from "../support/http.ts";

let edge: EdgeHandle;
let agent: FakeAgent;
const CODE = ["```python main.py\n", "print('hi')\n", "```\n"];

beforeAll(async () => {
  edge = await startEdge({ ATOMIC_AGENT_WAIT_MS: "3000", ATOMIC_MAX_BODY_BYTES: "4096", ATOMIC_CORS_ORIGINS: "*" });
  agent = await FakeAgent.link(edge, { capacity: 50 });
});
afterAll(async () => {
  agent?.close();
  await edge?.dispose();
});

function expectError(res: { status: number; body: any; headers: Headers }, status: number, code: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.success).toBe(false);
  expect(res.body.error.code).toBe(code);
  expect(typeof res.body.error.message).toBe("string");
  expect(res.body.request_id).toBe(res.headers.get("x-request-id"));
}

describe("bad input gets a clear error", () => {
  it("answers a body that is not JSON with 400 invalid_json", async () => {
    expectError(await postJson(`${edge.url}/api/generate`, "{not json"), 400, "invalid_json");
  });

  it("names the missing field", async () => {
    const res = await postJson(`${edge.url}/api/generate`, { metadata: {} });
    expectError(res, 400, "invalid_request");
    expect(res.body.error.message).toContain("prompt");
  });

  it("names a bad priority and a bad metadata type", async () => {
    const res = await postJson(`${edge.url}/api/generate`, {
      prompt: "x",
      priority: "urgent",
      metadata: { stream: "yes" },
    });
    expectError(res, 400, "invalid_request");
    expect(res.body.error.message).toContain("priority");
    expect(res.body.error.message).toContain("metadata.stream");
  });

  it("refuses an empty prompt and metadata nested too deep", async () => {
    expectError(await postJson(`${edge.url}/api/generate`, { prompt: "   " }), 400, "invalid_request");
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 12; i++) deep = { inner: deep };
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "x", metadata: deep });
    expectError(res, 400, "invalid_request");
    expect(res.body.error.message).toContain("levels deep");
  });

  it("answers a body over the limit with 413", async () => {
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "x".repeat(10_000) });
    expectError(res, 413, "payload_too_large");
  });

  it("answers an unknown route with 404 and a wrong method with 405 and Allow", async () => {
    expectError(await getJson(`${edge.url}/api/nothing-here`), 404, "not_found");
    const res = await getJson(`${edge.url}/api/generate`);
    expectError(res, 405, "method_not_allowed");
    expect(res.headers.get("allow")).toBe("POST");
  });

  it("answers an unknown pipeline with 404 on every pipeline route", async () => {
    const id = crypto.randomUUID();
    expectError(await getJson(`${edge.url}/api/pipelines/${id}`), 404, "not_found");
    expectError(await postJson(`${edge.url}/api/pipelines/${id}/cancel`, {}), 404, "not_found");
    expectError(await getJson(`${edge.url}/api/pipelines/${id}/artifacts`), 404, "not_found");
    expectError(await getJson(`${edge.url}/api/pipelines/not-an-id`), 404, "not_found");
  });
});

describe("every response", () => {
  it("carries X-Request-Id and CORS headers; preflight is answered", async () => {
    const res = await fetch(`${edge.url}/api/status`, { headers: { Origin: "https://app.example" } });
    expect(res.headers.get("x-request-id")).toMatch(/.+/);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const preflight = await fetch(`${edge.url}/api/generate`, {
      method: "OPTIONS",
      headers: {
        Origin: "https://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-methods")).toContain("POST");
    expect(preflight.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("content-type");
  });
});

describe("observability routes", () => {
  it("GET /health shows the linked agent's LLM", async () => {
    const res = await getJson(`${edge.url}/health`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: "ok",
      llm_agent: "healthy",
      llm_provider: "offline",
      docker: "unavailable",
      agents_connected: 1,
    });
    expect(res.body.uptime_ms).toBeGreaterThanOrEqual(0);
    expect(res.body.uptime_ms).toBeLessThan(3_600_000);
  });

  it("/api/metrics, /api/status and /metrics count a finished pipeline", async () => {
    const pending = postJson(`${edge.url}/api/generate`, { prompt: "count me" });
    const job = await agent.nextJob();
    agent.generate(job, CODE);
    expect((await pending).status).toBe(200);
    const metrics = await getJson(`${edge.url}/api/metrics`);
    expect(metrics.body.total_requests).toBeGreaterThanOrEqual(1);
    expect(metrics.body.successful_requests).toBeGreaterThanOrEqual(1);
    expect(metrics.body.average_latency_ms).toBeGreaterThan(0);
    expect(metrics.body).toHaveProperty("active_pipelines");
    expect(metrics.body).toHaveProperty("queue_size");
    const status = await getJson(`${edge.url}/api/status`);
    expect(status.body).toMatchObject({ running: true, max_concurrent: 10, max_queue_size: 1000 });
    expect(status.body.agents[0]).toMatchObject({ agent_id: agent.id, connected: true, capacity: 50 });
    const prom = await fetch(`${edge.url}/metrics`);
    expect(prom.headers.get("content-type")).toContain("text/plain");
    const text = await prom.text();
    expect(text).toMatch(/atomic_pipelines_total\{pool="default",outcome="completed"\} [1-9]/);
    expect(text).toMatch(
      /atomic_pipeline_duration_seconds_bucket\{pool="default",outcome="completed",le="\+Inf"\} [1-9]/,
    );
    expect(text).toContain("# TYPE atomic_pipeline_duration_seconds histogram");
  });

  it("GET /api/openapi.json describes the routes from the schemas", async () => {
    const res = await getJson(`${edge.url}/api/openapi.json`);
    expect(res.body.openapi).toBe("3.2.0");
    const generate = res.body.paths["/api/generate"].post;
    expect(generate.requestBody.content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/GenerateRequest",
    });
    expect(res.body.components.schemas.GenerateRequest.required).toContain("prompt");
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining(["/health", "/ws/stream", "/api/pipelines/{id}"]),
    );
  });
});

describe("pipelines", () => {
  it("async: 202 with links, then state, artifacts manifest, one file and the bundle", async () => {
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "async please", async: true, priority: "high" });
    expect(res.status).toBe(202);
    expect(res.body.links.self).toBe(`/api/pipelines/${res.body.pipeline_id}`);
    expect(res.headers.get("location")).toBe(res.body.links.self);
    const job = await agent.nextJob();
    agent.generate(job, ["```js app.js\n", "console.log(1)\n", "```\n", "```python tool.py\nprint(2)\n```\n"]);
    const view = await until(
      () => getJson(`${edge.url}${res.body.links.self}`),
      (r) => r.body.state === "COMPLETED",
    );
    expect(view.body).toMatchObject({ state: "COMPLETED", progress: 1, priority: "high", stage: null, error: null });
    expect(view.body.stages.map((s: any) => [s.stage, s.status])).toEqual([
      ["PARSING", "completed"],
      ["GENERATING", "completed"],
      ["PACKAGING", "completed"],
    ]);
    const manifest = await getJson(`${edge.url}${res.body.links.artifacts}`);
    expect(manifest.body.files.map((f: any) => f.path)).toEqual(["app.js", "tool.py"]);
    expect(manifest.body.files[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    const file = await fetch(`${edge.url}${res.body.links.artifacts}/tool.py`);
    expect(await file.text()).toBe("print(2)\n");
    const tar = await fetch(`${edge.url}/api/pipelines/${res.body.pipeline_id}/artifacts.tar`);
    expect(tar.headers.get("content-type")).toBe("application/x-tar");
    const bytes = new Uint8Array(await tar.arrayBuffer());
    expect(new TextDecoder().decode(bytes.subarray(0, 6))).toBe("app.js");
    expect(bytes.length % 512).toBe(0);
  });

  it("Prefer: respond-async answers 202 too", async () => {
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "prefer async" }, { Prefer: "respond-async" });
    expect(res.status).toBe(202);
    agent.generate(await agent.nextJob(), CODE);
  });

  it("Accept: text/event-stream streams the pipeline's events as SSE", async () => {
    const pending = fetch(`${edge.url}/api/generate`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify({ prompt: "stream me" }),
    });
    const job = await agent.nextJob();
    agent.generate(job, CODE);
    const res = await pending;
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const events = parseSse(await res.text());
    const types = events.map((e) => e.event);
    expect(types[0]).toBe("queued");
    expect(types.at(-1)).toBe("result");
    const chunks = events.filter((e) => e.event === "chunk").map((e) => e.data);
    expect(chunks.map((c) => c.delta).join("")).toBe(CODE.join(""));
    expect(chunks.at(-1)).toMatchObject({ is_final: true, content: CODE.join("") });
    expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i + 1));
  });

  it("GET /api/pipelines/:id/events resumes after Last-Event-ID", async () => {
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "resume sse", async: true });
    agent.generate(await agent.nextJob(), CODE);
    await until(
      () => getJson(`${edge.url}/api/pipelines/${res.body.pipeline_id}`),
      (r) => r.body.state === "COMPLETED",
    );
    const all = parseSse(await (await fetch(`${edge.url}/api/pipelines/${res.body.pipeline_id}/events`)).text());
    const later = parseSse(
      await (
        await fetch(`${edge.url}/api/pipelines/${res.body.pipeline_id}/events`, { headers: { "Last-Event-ID": "3" } })
      ).text(),
    );
    expect(later.map((e) => e.id)).toEqual(all.slice(3).map((e) => e.id));
    expect(later[0]!.data.seq).toBe(4);
  });

  it("cancel ends a running pipeline, cancels its job on the host, and refuses a second cancel", async () => {
    const res = await postJson(`${edge.url}/api/generate`, { prompt: "cancel me", async: true });
    const job = await agent.nextJob();
    const cancelled = await postJson(`${edge.url}/api/pipelines/${res.body.pipeline_id}/cancel`, {});
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.state).toBe("CANCELLED");
    await agent.socket.waitFor((m) => m["type"] === "job.cancel" && m["job_id"] === job.job_id);
    const again = await postJson(`${edge.url}/api/pipelines/${res.body.pipeline_id}/cancel`, {});
    expectError(again, 409, "conflict");
    const view = await getJson(`${edge.url}/api/pipelines/${res.body.pipeline_id}`);
    expect(view.body.error.code).toBe("cancelled");
  });
});
