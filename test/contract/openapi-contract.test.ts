import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERROR_STATUS, type ErrorCode } from "../../shared/src/index.ts";
import { ROOT, startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent, SANDBOX_RESULT } from "../support/fake-agent.ts";
import { answerOf, Contract, type Answer } from "./contract.ts";
import { openSocket, refusedHandshake } from "./sockets.ts";

// Three edges: an open one with host-agents played by the test, one with API keys and tight
// limits (401, 429), and one whose configuration is invalid, so every route answers its 500.
let open: EdgeHandle;
let keyed: EdgeHandle;
let broken: EdgeHandle;
let llm: FakeAgent;
let sandbox: FakeAgent;
let contract: Contract;

const MAX_BODY = 4096;
const KEYS = { status: "key-a", queue: "key-b", sockets: "key-c" };
/** Sees every key's pipelines: follows the one another key made. */
const OPERATOR_KEY = "key-operator";
const PROGRAM = ["Here it is:\n\n```python main.py\n", 'print("hi")\n', "```\n"];

beforeAll(async () => {
  [open, keyed, broken] = await Promise.all([
    startEdge({ ATOMIC_AGENT_WAIT_MS: "1500", ATOMIC_MAX_BODY_BYTES: String(MAX_BODY) }),
    startEdge({
      ATOMIC_API_KEYS: Object.values(KEYS).join(","),
      ATOMIC_OPERATOR_KEYS: OPERATOR_KEY,
      ATOMIC_RATE_LIMIT_PER_MIN: "3",
      ATOMIC_MAX_CONCURRENT: "1",
      ATOMIC_MAX_QUEUE_SIZE: "1",
      ATOMIC_MAX_SUBSCRIBERS: "1",
      ATOMIC_AGENT_WAIT_MS: "60000",
    }),
    startEdge({ ATOMIC_MAX_CONCURRENT: "none" }),
  ]);
  [llm, sandbox] = await Promise.all([
    FakeAgent.link(open),
    FakeAgent.link(open, { kinds: ["sandbox.execute"], docker: true }),
  ]);
  const served = await fetch(`${open.url}/api/openapi.json`);
  contract = new Contract(await served.json());
});
afterAll(async () => {
  llm?.close();
  sandbox?.close();
  await Promise.all([open?.dispose(), keyed?.dispose(), broken?.dispose()]);
});

/** A concrete path for a template: a fresh pipeline id, and `main.py` for a file. */
function concrete(template: string, id: string = crypto.randomUUID()): string {
  return template.replace("{id}", id).replace("{path}", "main.py");
}

/** Sends a request to `edge` and checks its answer against the operation of `template`. */
async function call(
  edge: EdgeHandle,
  method: string,
  template: string,
  init: { path?: string; query?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<Answer & { json: any }> {
  const raw = init.body;
  const body =
    raw === undefined ? undefined : typeof raw === "string" || raw instanceof Uint8Array ? raw : JSON.stringify(raw);
  const res = await fetch(`${edge.url}${init.path ?? concrete(template)}${init.query ?? ""}`, {
    method,
    headers: { ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...init.headers },
    body,
  });
  const answer = await answerOf(res);
  contract.check(method, template, answer);
  let json: any = null;
  if ((answer.headers.get("content-type") ?? "").includes("json")) json = JSON.parse(answer.body);
  return { ...answer, json };
}

const expectError = (answer: { status: number; json: any }, code: ErrorCode) => {
  expect(answer.status, JSON.stringify(answer.json)).toBe(ERROR_STATUS[code]);
  expect(answer.json.error.code).toBe(code);
};

/** A synchronous generate whose only job the fake agent fails with `code`. */
async function failedGenerate(code: ErrorCode): Promise<{ status: number; json: any }> {
  const pending = call(open, "POST", "/api/generate", { body: { prompt: `fail with ${code}` } });
  llm.fail(await llm.nextJob(), code, `the test failed it with ${code}`, false);
  return pending;
}

let finished: { id: string; lastSeq: number };

describe("pipelines", () => {
  it("POST /api/generate: 200 with the result, 202 async or with Prefer, 200 as SSE", async () => {
    const pending = call(open, "POST", "/api/generate", {
      body: { prompt: "hello", metadata: { language: "python" } },
    });
    llm.generate(await llm.nextJob(), PROGRAM);
    const done = await pending;
    expect(done.status).toBe(200);
    expect(done.json.content).toBe(PROGRAM.join(""));

    const async = await call(open, "POST", "/api/generate", { body: { prompt: "later", async: true } });
    expect(async.status).toBe(202);
    llm.generate(await llm.nextJob(), PROGRAM);
    const preferred = await call(open, "POST", "/api/generate", {
      body: { prompt: "later too" },
      headers: { Prefer: "respond-async" },
    });
    expect(preferred.status).toBe(202);
    llm.generate(await llm.nextJob(), PROGRAM);

    const streamed = fetch(`${open.url}/api/generate`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify({ prompt: "stream it" }),
    });
    llm.generate(await llm.nextJob(), PROGRAM);
    const sse = await answerOf(await streamed);
    contract.check("POST", "/api/generate", sse);
    expect(sse.body).toContain("event: result");

    const view = await call(open, "GET", "/api/pipelines/{id}", { path: `/api/pipelines/${done.json.pipeline_id}` });
    expect(view.json).toMatchObject({ state: "COMPLETED", stage: null });
    finished = { id: done.json.pipeline_id, lastSeq: view.json.last_seq };
  });

  it("POST /api/generate: 400, 413, 415 and the statuses of a pipeline that failed (400, 409, 500, 502, 503, 504)", async () => {
    expectError(await call(open, "POST", "/api/generate", { body: "{not json" }), "invalid_json");
    expectError(await call(open, "POST", "/api/generate", { body: { metadata: {} } }), "invalid_request");
    const big = { prompt: "x".repeat(MAX_BODY + 1) };
    expectError(await call(open, "POST", "/api/generate", { body: big }), "payload_too_large");
    const gzipped = gzipSync(JSON.stringify({ prompt: "compressed" }));
    const encoded = await call(open, "POST", "/api/generate", {
      body: gzipped,
      headers: { "Content-Encoding": "gzip" },
    });
    expectError(encoded, "unsupported_media_type");
    const keyed = { headers: { "Idempotency-Key": "contract-generate", Prefer: "respond-async" } };
    const firstKeyed = await call(open, "POST", "/api/generate", { ...keyed, body: { prompt: "keyed" } });
    expect(firstKeyed.status).toBe(202);
    const replayed = await call(open, "POST", "/api/generate", { ...keyed, body: { prompt: "keyed" } });
    expect(replayed.headers.get("Idempotent-Replayed")).toBe("true");
    expectError(
      await call(open, "POST", "/api/generate", { ...keyed, body: { prompt: "other" } }),
      "idempotency_key_reused",
    );
    llm.generate(await llm.nextJob(), PROGRAM);

    for (const code of ["invalid_request", "internal", "llm_error", "timeout"] as const) {
      const failed = await failedGenerate(code);
      expectError(failed, code);
      expect(failed.json).toMatchObject({ state: "FAILED", pipeline_id: expect.any(String) });
    }
    const nobody = await call(open, "POST", "/api/generate", {
      body: { prompt: "no one", metadata: { pool: "nobody" } },
    });
    expectError(nobody, "no_agent");

    const waiting = call(open, "POST", "/api/generate", { body: { prompt: "cancel me" } });
    const job = await llm.nextJob();
    const cancelled = await call(open, "POST", "/api/pipelines/{id}/cancel", {
      path: `/api/pipelines/${job.pipeline_id}/cancel`,
    });
    expect(cancelled.status).toBe(200);
    expectError(await waiting, "cancelled");
  });

  it("GET /api/pipelines/{id} and cancel: 404 for an unknown or malformed id, 409 once ended, 413 over the limit", async () => {
    expectError(await call(open, "GET", "/api/pipelines/{id}"), "not_found");
    expectError(await call(open, "GET", "/api/pipelines/{id}", { path: "/api/pipelines/not-a-uuid" }), "not_found");
    expectError(await call(open, "POST", "/api/pipelines/{id}/cancel"), "not_found");
    const ended = `/api/pipelines/${finished.id}/cancel`;
    expectError(await call(open, "POST", "/api/pipelines/{id}/cancel", { path: ended }), "conflict");
    const big = { reason: "y".repeat(MAX_BODY + 1) };
    expectError(
      await call(open, "POST", "/api/pipelines/{id}/cancel", { path: ended, body: big }),
      "payload_too_large",
    );
  });

  it("GET /api/pipelines/{id}/events: 200 replay, 204 when nothing is left, 400, 404", async () => {
    const path = `/api/pipelines/${finished.id}/events`;
    const replay = await call(open, "GET", "/api/pipelines/{id}/events", { path, query: "?after=0" });
    expect(replay.status).toBe(200);
    const resumed = await call(open, "GET", "/api/pipelines/{id}/events", {
      path,
      headers: { "Last-Event-ID": String(finished.lastSeq) },
    });
    expect(resumed.status).toBe(204);
    expectError(await call(open, "GET", "/api/pipelines/{id}/events", { path, query: "?after=-1" }), "invalid_request");
    expectError(await call(open, "GET", "/api/pipelines/{id}/events"), "not_found");
  });

  it("a failed pipeline's events: its failure as event pipeline_error", async () => {
    const failed = await failedGenerate("llm_error");
    const events = await call(open, "GET", "/api/pipelines/{id}/events", {
      path: `/api/pipelines/${failed.json.pipeline_id}/events`,
    });
    expect(events.body).toMatch(/event: pipeline_error\ndata: \{"type":"error"/);
  });
});

describe("artifacts", () => {
  it("manifest (JSON or tar), bundle and one file (200, 304), and 400, 404", async () => {
    const base = `/api/pipelines/${finished.id}/artifacts`;
    const manifest = await call(open, "GET", "/api/pipelines/{id}/artifacts", { path: base });
    expect(manifest.json.files).toEqual([expect.objectContaining({ path: "main.py" })]);
    const asTar = await call(open, "GET", "/api/pipelines/{id}/artifacts", {
      path: base,
      headers: { Accept: "application/x-tar" },
    });
    expect(asTar.headers.get("content-type")).toBe("application/x-tar");
    const bundle = await call(open, "GET", "/api/pipelines/{id}/artifacts.tar", { path: `${base}.tar` });
    expect(bundle.status).toBe(200);
    const file = await call(open, "GET", "/api/pipelines/{id}/artifacts/{path}", { path: `${base}/main.py` });
    expect(file.body).toBe('print("hi")\n');
    const etag = file.headers.get("etag") ?? "";
    const cached = await call(open, "GET", "/api/pipelines/{id}/artifacts/{path}", {
      path: `${base}/main.py`,
      headers: { "If-None-Match": etag },
    });
    expect(cached.status).toBe(304);

    expectError(
      await call(open, "GET", "/api/pipelines/{id}/artifacts/{path}", { path: `${base}/gone.py` }),
      "not_found",
    );
    const escape = `${base}/a%2F..%2F..%2Fsecrets`;
    expectError(await call(open, "GET", "/api/pipelines/{id}/artifacts/{path}", { path: escape }), "invalid_request");
    expectError(await call(open, "GET", "/api/pipelines/{id}/artifacts"), "not_found");
    expectError(await call(open, "GET", "/api/pipelines/{id}/artifacts.tar"), "not_found");
  });
});

describe("POST /api/execute", () => {
  const run = (body: unknown = { language: "python", code: "print(1+1)" }, query = "") =>
    call(open, "POST", "/api/execute", { body, query });

  it("200 with the sandbox's result; 400, 409, 502 from the host with the run's id; 503 without one", async () => {
    const pending = run();
    sandbox.result(await sandbox.nextJob("sandbox.execute"), 0, SANDBOX_RESULT);
    expect((await pending).json).toMatchObject({ success: true, ...SANDBOX_RESULT });

    for (const code of ["invalid_request", "cancelled", "sandbox_error"] as const) {
      const failing = run();
      sandbox.fail(await sandbox.nextJob("sandbox.execute"), code, `the test failed it with ${code}`, false);
      const failed = await failing;
      expectError(failed, code);
      expect(failed.json.execution_id).toEqual(expect.any(String));
    }
    expectError(await run(undefined, "?pool=nobody"), "sandbox_unavailable");
  });

  it("400, 413 and 415 for the body", async () => {
    expectError(await run({ language: "cobol", code: "x" }), "invalid_request");
    expectError(await run({ language: "python", code: "x".repeat(MAX_BODY) }), "payload_too_large");
    const gzipped = gzipSync(JSON.stringify({ language: "python", code: "1" }));
    const encoded = await call(open, "POST", "/api/execute", {
      body: gzipped,
      headers: { "Content-Encoding": "gzip" },
    });
    expectError(encoded, "unsupported_media_type");
    const keyed = { headers: { "Idempotency-Key": "contract-execute" } };
    const first = call(open, "POST", "/api/execute", { ...keyed, body: { language: "python", code: "1" } });
    sandbox.result(await sandbox.nextJob("sandbox.execute"), 0, SANDBOX_RESULT);
    expect((await first).status).toBe(200);
    const replayed = await call(open, "POST", "/api/execute", { ...keyed, body: { language: "python", code: "1" } });
    contract.check("POST", "/api/execute", replayed);
    expect(replayed.headers.get("Idempotent-Replayed")).toBe("true");
    const reused = await call(open, "POST", "/api/execute", { ...keyed, body: { language: "python", code: "2" } });
    expectError(reused, "idempotency_key_reused");
  });
});

describe("WebSockets", () => {
  it("/ws/stream: 101, then frames as x-websocket describes them; 426 for a plain GET", async () => {
    const { answer, socket } = await openSocket(`${open.wsUrl}/ws/stream`);
    contract.check("GET", "/ws/stream", answer);
    const sent: unknown[] = [{ type: "ping" }, { prompt: "over a socket" }];
    socket.send(sent[0]);
    await socket.waitFor((m) => m["type"] === "pong");
    socket.send("not json");
    await socket.waitFor((m) => m["code"] === "invalid_json");
    socket.send({ metadata: {} });
    await socket.waitFor((m) => m["code"] === "invalid_request");
    socket.send(sent[1]);
    llm.generate(await llm.nextJob(), PROGRAM);
    await socket.waitFor((m) => m["type"] === "result");
    expect((await socket.waitClosed()).code).toBe(1000);
    contract.checkFrames("/ws/stream", "client", sent);
    contract.checkFrames("/ws/stream", "server", socket.messages);

    expectError(await call(open, "GET", "/ws/stream"), "upgrade_required");
  });

  it("/ws/pipelines/{id}: 101 with the replay; 400, 404 and 426", async () => {
    const { answer, socket } = await openSocket(`${open.wsUrl}/ws/pipelines/${finished.id}?after=0`);
    contract.check("GET", "/ws/pipelines/{id}", answer);
    await socket.waitClosed();
    expect(socket.messages.length).toBe(finished.lastSeq);
    contract.checkFrames("/ws/pipelines/{id}", "server", socket.messages);
    contract.checkFrames("/ws/pipelines/{id}", "client", [{ type: "cancel" }]);

    const missing = await refusedHandshake(`${open.wsUrl}/ws/pipelines/${crypto.randomUUID()}`);
    contract.check("GET", "/ws/pipelines/{id}", missing);
    expect(missing.status).toBe(404);
    const badAfter = await refusedHandshake(`${open.wsUrl}/ws/pipelines/${finished.id}?after=-3`);
    contract.check("GET", "/ws/pipelines/{id}", badAfter);
    expect(badAfter.status).toBe(400);
    expectError(await call(open, "GET", "/ws/pipelines/{id}"), "upgrade_required");
  });

  it("/ws/pool: 101 with the overview, a ping answered; 400 and 426", async () => {
    const { answer, socket } = await openSocket(`${open.wsUrl}/ws/pool`);
    contract.check("GET", "/ws/pool", answer);
    await socket.waitFor((m) => m["type"] === "overview");
    socket.send({ type: "ping" });
    await socket.waitFor((m) => m["type"] === "pong");
    socket.close();
    contract.checkFrames("/ws/pool", "client", [{ type: "ping" }]);
    contract.checkFrames("/ws/pool", "server", socket.messages);

    const badPool = await refusedHandshake(`${open.wsUrl}/ws/pool?pool=${"x".repeat(100)}`);
    contract.check("GET", "/ws/pool", badPool);
    expect(badPool.status).toBe(400);
    expectError(await call(open, "GET", "/ws/pool"), "upgrade_required");
  });

  it("/agent/connect: 101 and the link's frames; 400, 401 and 426", async () => {
    const headers = { Authorization: `Bearer ${open.token}`, "X-Atomic-Agent-Id": "contract-probe" };
    const { answer, socket } = await openSocket(`${open.wsUrl}/agent/connect`, headers);
    contract.check("GET", "/agent/connect", answer);
    socket.close();
    contract.checkFrames("/agent/connect", "server", [...llm.socket.messages, ...sandbox.socket.messages]);

    const wrong = await refusedHandshake(`${open.wsUrl}/agent/connect`, { ...headers, Authorization: "Bearer wrong" });
    contract.check("GET", "/agent/connect", wrong);
    expect(wrong.status).toBe(401);
    const badId = await refusedHandshake(`${open.wsUrl}/agent/connect`, {
      ...headers,
      "X-Atomic-Agent-Id": "no spaces",
    });
    contract.check("GET", "/agent/connect", badId);
    expect(badId.status).toBe(400);
    expectError(await call(open, "GET", "/agent/connect", { headers }), "upgrade_required");
  });
});

describe("every operation", () => {
  it("observability: 200, and 400 for a malformed pool", async () => {
    for (const template of ["/health", "/api/metrics", "/api/status", "/metrics", "/api/openapi.json"]) {
      expect((await call(open, "GET", template)).status).toBe(200);
    }
    for (const template of ["/health", "/api/metrics", "/api/status", "/metrics"]) {
      expectError(await call(open, "GET", template, { query: "?pool=Not_A_Pool" }), "invalid_request");
    }
  });

  it("the pipeline list: 200, and 400 for a malformed pool, limit or cursor", async () => {
    expect((await call(open, "GET", "/api/pipelines")).status).toBe(200);
    for (const query of ["?pool=Not_A_Pool", "?limit=0", "?cursor=%21"]) {
      expectError(await call(open, "GET", "/api/pipelines", { query }), "invalid_request");
    }
  });

  it("405 with Allow naming exactly the methods the document lists for the path", async () => {
    const methods = new Map<string, string[]>();
    for (const [template, method] of contract.operations()) {
      methods.set(template, [...(methods.get(template) ?? []), method.toUpperCase()]);
    }
    for (const [template, allowed] of methods) {
      const method = allowed.includes("PUT") ? "PATCH" : "PUT";
      const wrong = await answerOf(await fetch(`${open.url}${concrete(template)}`, { method }));
      // The path has no operation for this method: its answer is checked against the 405 its operations document.
      contract.check(allowed[0] ?? "GET", template, wrong);
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get("allow")).toBe(allowed.join(", "));
    }
  });

  it("500 from every operation when the edge's configuration is invalid", async () => {
    for (const [template, method] of contract.operations()) {
      const answer = await call(broken, method.toUpperCase(), template, method === "post" ? { body: {} } : {});
      expectError(answer, "internal");
      expect(answer.json.error.message).toContain("ATOMIC_MAX_CONCURRENT");
    }
  });

  it("with API keys: 401 without one, 200 with one, then 429 past the rate limit; 429 when the queue is full", async () => {
    const keyedOperations = contract
      .operations()
      .filter(([template, method]) =>
        JSON.stringify(contract.operation(template, method)["security"]).includes("apiKey"),
      );
    expect(keyedOperations.length).toBeGreaterThan(10);
    for (const [template, method] of keyedOperations) {
      expectError(
        await call(keyed, method.toUpperCase(), template, method === "post" ? { body: {} } : {}),
        "unauthorized",
      );
    }
    expect((await call(keyed, "GET", "/health")).json.auth).toBe("api_keys");

    const asStatus = { headers: { Authorization: `Bearer ${KEYS.status}` } };
    for (let i = 0; i < 3; i++) expect((await call(keyed, "GET", "/api/status", asStatus)).status).toBe(200);
    for (const [template, method] of keyedOperations) {
      const answer = await call(keyed, method.toUpperCase(), template, {
        ...asStatus,
        ...(method === "post" ? { body: {} } : {}),
      });
      expectError(answer, "rate_limited");
    }

    const asQueue = { headers: { Authorization: `Bearer ${KEYS.queue}` } };
    const first = await call(keyed, "POST", "/api/generate", { ...asQueue, body: { prompt: "runs", async: true } });
    await call(keyed, "POST", "/api/generate", { ...asQueue, body: { prompt: "waits", async: true } });
    expectError(
      await call(keyed, "POST", "/api/generate", { ...asQueue, body: { prompt: "too many", async: true } }),
      "queue_full",
    );

    const token = `?access_token=${KEYS.sockets}`;
    const stream = await openSocket(`${keyed.wsUrl}/ws/stream${token}`);
    contract.check("GET", "/ws/stream", stream.answer);
    stream.socket.close();
    // Another key's pipeline does not exist for a key; an operator's key follows any.
    const follow = `${keyed.wsUrl}/ws/pipelines/${first.json.pipeline_id}?access_token=${OPERATOR_KEY}`;
    const follower = await openSocket(follow);
    contract.check("GET", "/ws/pipelines/{id}", follower.answer);
    const crowded = await refusedHandshake(follow);
    contract.check("GET", "/ws/pipelines/{id}", crowded);
    expect(crowded.status).toBe(429);
    follower.socket.close();
  });
});

const README_ROUTES = readFileSync(join(ROOT, "README.md"), "utf8")
  .split("\n")
  .flatMap((line) => {
    const match = /^\| `(GET|POST|PUT|PATCH|DELETE) (\/[^`]*)` \|/.exec(line);
    if (!match?.[1] || !match[2]) return [];
    const template = match[2]
      .replace(/\?.*$/, "")
      .replace(/:(\w+)/g, "{$1}")
      .replace(/<(\w+)>/g, "{$1}");
    return [[match[1], template] as const];
  });

// Documented answers this suite does not provoke, each with the reason.
const NOT_PROVOKED: Record<string, string> = {
  "POST /api/execute 504": "a run times out only after its deadline plus the edge's grace, seconds of waiting",
};

describe("coverage", () => {
  it("every route of the README's API table is in the document and was answered with a success", () => {
    expect(README_ROUTES.length).toBeGreaterThanOrEqual(15);
    for (const [method, template] of README_ROUTES) {
      expect(contract.statuses(template, method.toLowerCase()).length, `${method} ${template}`).toBeGreaterThan(0);
      const succeeded = [...contract.covered].some((label) =>
        new RegExp(`^${method} ${template.replace(/[{}.]/g, "\\$&")} (2\\d\\d|101)$`).test(label),
      );
      expect(succeeded, `${method} ${template} was never answered with a success`).toBe(true);
    }
  });

  it("every response the document lists was provoked and checked", () => {
    const missing: string[] = [];
    for (const [template, method] of contract.operations()) {
      for (const status of contract.statuses(template, method)) {
        const label = `${method.toUpperCase()} ${template} ${status}`;
        if (!contract.covered.has(label) && !(label in NOT_PROVOKED)) missing.push(label);
      }
    }
    expect(missing).toEqual([]);
    for (const label of Object.keys(NOT_PROVOKED)) {
      const [method = "", template = "", status = ""] = label.split(" ");
      expect(contract.statuses(template, method.toLowerCase()), `${label} is documented`).toContain(status);
      expect(contract.covered.has(label), `${label} is provoked now: take it off NOT_PROVOKED`).toBe(false);
    }
  });
});
