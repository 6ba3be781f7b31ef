"""The JavaScript and TypeScript REST API on node:http: the app module, and its tests (fetch
against a server on a free port of 127.0.0.1, no dependencies)."""

HTTP_APP_JS = """// In-memory REST API for __RESOURCE__ on node:http (no dependencies).
__ROUTES__import http from "node:http";

const RESOURCE = "__RESOURCE__";
const REQUIRED_FIELDS = __FIELDS_LIST__;
const MAX_BODY_BYTES = 1_000_000;

/** Returns {fields} for a valid body, else {error}. */
export function validate(body) {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { error: "the body must be a JSON object" };
  }
  for (const name of REQUIRED_FIELDS) {
    const value = body[name];
    if (typeof value !== "string" || value.trim() === "") {
      return { error: `'${name}' is required and must be a non-empty string` };
    }
  }
  if (REQUIRED_FIELDS.includes("email") && !body.email.includes("@")) {
    return { error: "'email' must be an email address" };
  }
  const { id: _id, ...fields } = body;
  return { fields };
}

function send(res, status, payload) {
  const body = payload === undefined ? "" : JSON.stringify(payload);
  const headers = { "Content-Length": Buffer.byteLength(body) };
  if (payload !== undefined) headers["Content-Type"] = "application/json";
  res.writeHead(status, headers);
  res.end(body);
}

/** Resolves to {body} or {error}. */
async function readJson(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return { error: "the body is too large" };
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return { body: text === "" ? null : JSON.parse(text) };
  } catch {
    return { error: "the body is not valid JSON" };
  }
}

/** A server for the API, with a store of its own; it listens only when told to (__MAIN__ does). */
export function createApiServer() {
  const records = new Map();
  let nextId = 1;

  async function handle(req, res) {
    const { pathname } = new URL(req.url ?? "/", "http://localhost");
    if (pathname === "/health" && req.method === "GET") return send(res, 200, { status: "ok" });
    const parts = pathname.split("/").filter(Boolean);
    const isCollection = parts.length === 1 && parts[0] === RESOURCE;
    const isRecord = parts.length === 2 && parts[0] === RESOURCE && /^[0-9]{1,15}$/.test(parts[1]);
    if (!isCollection && !isRecord) return send(res, 404, { error: "not found" });
    const allowed = isCollection ? ["GET", "POST"] : ["GET", "PUT", "DELETE"];
    if (!allowed.includes(req.method)) return send(res, 405, { error: `use ${allowed.join(", ")}` });
    const id = isRecord ? Number(parts[1]) : null;

    if (req.method === "GET" && isCollection) return send(res, 200, [...records.values()]);
    if (req.method === "GET") {
      const record = records.get(id);
      return record ? send(res, 200, record) : send(res, 404, { error: "not found" });
    }
    if (req.method === "DELETE") {
      return records.delete(id) ? send(res, 204) : send(res, 404, { error: "not found" });
    }
    const read = await readJson(req);
    const result = "error" in read ? read : validate(read.body);
    if ("error" in result) return send(res, 400, { error: result.error });
    if (req.method === "POST") {
      const record = { id: nextId++, ...result.fields };
      records.set(record.id, record);
      return send(res, 201, record);
    }
    if (!records.has(id)) return send(res, 404, { error: "not found" });
    const record = { id, ...result.fields };
    records.set(id, record);
    return send(res, 200, record);
  }

  return http.createServer((req, res) => {
    handle(req, res).catch((error) => {
      console.error(error);
      if (!res.headersSent) send(res, 500, { error: "internal error" });
    });
  });
}
"""

HTTP_APP_TS = """// In-memory REST API for __RESOURCE__ on node:http (no dependencies).
__ROUTES__import http from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";

type Fields = Record<string, unknown>;
type StoredRecord = Fields & { id: number };

const RESOURCE = "__RESOURCE__";
const REQUIRED_FIELDS: readonly string[] = __FIELDS_LIST__;
const MAX_BODY_BYTES = 1_000_000;

export function validate(body: unknown): { fields: Fields } | { error: string } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { error: "the body must be a JSON object" };
  }
  const object = body as Fields;
  for (const name of REQUIRED_FIELDS) {
    const value = object[name];
    if (typeof value !== "string" || value.trim() === "") {
      return { error: `'${name}' is required and must be a non-empty string` };
    }
  }
  if (REQUIRED_FIELDS.includes("email") && !String(object["email"]).includes("@")) {
    return { error: "'email' must be an email address" };
  }
  const { id: _id, ...fields } = object;
  return { fields };
}

function send(res: ServerResponse, status: number, payload?: unknown): void {
  const body = payload === undefined ? "" : JSON.stringify(payload);
  const headers: Record<string, string | number> = { "Content-Length": Buffer.byteLength(body) };
  if (payload !== undefined) headers["Content-Type"] = "application/json";
  res.writeHead(status, headers);
  res.end(body);
}

async function readJson(req: IncomingMessage): Promise<{ body: unknown } | { error: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return { error: "the body is too large" };
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return { body: text === "" ? null : JSON.parse(text) };
  } catch {
    return { error: "the body is not valid JSON" };
  }
}

/** A server for the API, with a store of its own; it listens only when told to (__MAIN__ does). */
export function createApiServer(): Server {
  const records = new Map<number, StoredRecord>();
  let nextId = 1;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { pathname } = new URL(req.url ?? "/", "http://localhost");
    if (pathname === "/health" && req.method === "GET") return send(res, 200, { status: "ok" });
    const parts = pathname.split("/").filter(Boolean);
    const isCollection = parts.length === 1 && parts[0] === RESOURCE;
    const isRecord = parts.length === 2 && parts[0] === RESOURCE && /^[0-9]{1,15}$/.test(parts[1] ?? "");
    if (!isCollection && !isRecord) return send(res, 404, { error: "not found" });
    const allowed = isCollection ? ["GET", "POST"] : ["GET", "PUT", "DELETE"];
    const method = req.method ?? "GET";
    if (!allowed.includes(method)) return send(res, 405, { error: `use ${allowed.join(", ")}` });
    const id = isRecord ? Number(parts[1]) : 0;

    if (method === "GET" && isCollection) return send(res, 200, [...records.values()]);
    if (method === "GET") {
      const record = records.get(id);
      return record ? send(res, 200, record) : send(res, 404, { error: "not found" });
    }
    if (method === "DELETE") {
      return records.delete(id) ? send(res, 204) : send(res, 404, { error: "not found" });
    }
    const read = await readJson(req);
    const result = "error" in read ? read : validate(read.body);
    if ("error" in result) return send(res, 400, { error: result.error });
    if (method === "POST") {
      const record: StoredRecord = { id: nextId++, ...result.fields };
      records.set(record.id, record);
      return send(res, 201, record);
    }
    if (!records.has(id)) return send(res, 404, { error: "not found" });
    const record: StoredRecord = { id, ...result.fields };
    records.set(id, record);
    return send(res, 200, record);
  }

  return http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error(error);
      if (!res.headersSent) send(res, 500, { error: "internal error" });
    });
  });
}
"""

HTTP_MAIN_JS = """// Starts the API of __APP__: PORT=3000 __RUN__  (HOST defaults to 127.0.0.1; PORT=0 picks a free port)
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createApiServer } from "./__APP__";
__RUN_DIRECTLY__
if (runDirectly()) {
  const host = process.env.HOST ?? "127.0.0.1";
  const port = Number(process.env.PORT ?? 3000);
  const server = createApiServer();
  server.listen(port, host, () => {
    console.log(`Listening on http://${host}:${server.address().port}`);
  });
}
"""

HTTP_MAIN_TS = """// Starts the API of __APP__: PORT=3000 __RUN__  (HOST defaults to 127.0.0.1; PORT=0 picks a free port)
import { realpathSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { createApiServer } from "./__APP__";
__RUN_DIRECTLY__
if (runDirectly()) {
  const host = process.env["HOST"] ?? "127.0.0.1";
  const port = Number(process.env["PORT"] ?? 3000);
  const server = createApiServer();
  server.listen(port, host, () => {
    console.log(`Listening on http://${host}:${(server.address() as AddressInfo).port}`);
  });
}
"""

# The same cases in both languages: only the imports and the helper's types differ.
_HTTP_TEST_CASES = """test("GET /health answers ok", async (t) => {
  const call = await serve(t);
  assert.deepEqual(await call("GET", "/health"), { status: 200, body: { status: "ok" } });
});

test("create, read, list, replace and delete", async (t) => {
  const call = await serve(t);
  assert.deepEqual(await call("GET", "/__RESOURCE__"), { status: 200, body: [] });
  const created = await call("POST", "/__RESOURCE__", VALID);
  assert.deepEqual(created, { status: 201, body: { id: 1, ...VALID } });
  assert.deepEqual(await call("GET", "/__RESOURCE__/1"), { status: 200, body: { id: 1, ...VALID } });
  assert.deepEqual(await call("PUT", "/__RESOURCE__/1", OTHER), { status: 200, body: { id: 1, ...OTHER } });
  assert.deepEqual(await call("POST", "/__RESOURCE__", VALID), { status: 201, body: { id: 2, ...VALID } });
  assert.deepEqual(await call("GET", "/__RESOURCE__"), {
    status: 200,
    body: [
      { id: 1, ...OTHER },
      { id: 2, ...VALID },
    ],
  });
  assert.deepEqual(await call("DELETE", "/__RESOURCE__/1"), { status: 204, body: null });
  assert.equal((await call("GET", "/__RESOURCE__/1")).status, 404);
  assert.equal((await call("DELETE", "/__RESOURCE__/1")).status, 404);
});

test("an invalid body is a 400 and stores nothing", async (t) => {
  const call = await serve(t);
  for (const field of Object.keys(VALID)) {
    const incomplete = Object.fromEntries(Object.entries(VALID).filter(([key]) => key !== field));
    assert.equal((await call("POST", "/__RESOURCE__", incomplete)).status, 400);
  }
  assert.equal((await call("POST", "/__RESOURCE__", [VALID])).status, 400);
  assert.equal((await call("POST", "/__RESOURCE__", "{not json")).status, 400);
  assert.deepEqual(await call("GET", "/__RESOURCE__"), { status: 200, body: [] });
});

test("unknown paths are 404; a method the path does not take is 405", async (t) => {
  const call = await serve(t);
  assert.equal((await call("GET", "/nothing-here")).status, 404);
  assert.equal((await call("GET", "/__RESOURCE__/42")).status, 404);
  assert.equal((await call("PUT", "/__RESOURCE__/42", VALID)).status, 404);
  assert.equal((await call("DELETE", "/__RESOURCE__")).status, 405);
});

test("validate() keeps the fields and drops an id", () => {
  assert.deepEqual(validate({ ...VALID, id: 7 }), { fields: VALID });
  assert.ok("error" in validate({}));
});
"""

HTTP_TEST_JS = """// Tests of the API in __APP__: each test serves it on a free port of 127.0.0.1.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createApiServer, validate } from "./__APP__";

const VALID = __VALID__;
const OTHER = __OTHER__;

/**
 * Serves a fresh API until the test ends; returns call(method, path, body?), which answers
 * {status, body} (a string body is sent as it is, anything else as JSON).
 */
async function serve(t) {
  const server = createApiServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  t.after(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address();
  return async (method, path, body) => {
    const init =
      body === undefined
        ? { method }
        : {
            method,
            headers: { "Content-Type": "application/json" },
            body: typeof body === "string" ? body : JSON.stringify(body),
          };
    const res = await fetch(`http://127.0.0.1:${port}${path}`, init);
    const text = await res.text();
    return { status: res.status, body: text === "" ? null : JSON.parse(text) };
  };
}

""" + _HTTP_TEST_CASES

HTTP_TEST_TS = """// Tests of the API in __APP__: each test serves it on a free port of 127.0.0.1.
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { test, type TestContext } from "node:test";
import { createApiServer, validate } from "./__APP__";

const VALID: Record<string, string> = __VALID__;
const OTHER: Record<string, string> = __OTHER__;

type Call = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: unknown }>;

/**
 * Serves a fresh API until the test ends; returns call(method, path, body?), which answers
 * {status, body} (a string body is sent as it is, anything else as JSON).
 */
async function serve(t: TestContext): Promise<Call> {
  const server = createApiServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return async (method, path, body) => {
    const init =
      body === undefined
        ? { method }
        : {
            method,
            headers: { "Content-Type": "application/json" },
            body: typeof body === "string" ? body : JSON.stringify(body),
          };
    const res = await fetch(`http://127.0.0.1:${port}${path}`, init);
    const text = await res.text();
    return { status: res.status, body: text === "" ? null : (JSON.parse(text) as unknown) };
  };
}

""" + _HTTP_TEST_CASES

# Appended to the tests of a resource with an email field.
HTTP_EMAIL_TEST = """
test("an email needs an @", async (t) => {
  const call = await serve(t);
  assert.equal((await call("POST", "/__RESOURCE__", { ...VALID, email: "not-an-email" })).status, 400);
});
"""
