"""Sources of the JavaScript and TypeScript REST API templates on node:http, and their route list."""

ROUTES_DOC = """// Routes:
//   GET /health: {"status": "ok"}
//   GET /__RESOURCE__: list every record
//   POST /__RESOURCE__: create one (JSON body; required: __FIELDS_DOC__)
//   GET /__RESOURCE__/:id: read one
//   PUT /__RESOURCE__/:id: replace one (same body as create)
//   DELETE /__RESOURCE__/:id: delete one
// Run: PORT=3000 __RUN__  (HOST defaults to 127.0.0.1; PORT=0 picks a free port)
"""

HTTP_JS = """// In-memory REST API for __RESOURCE__ on node:http (no dependencies).
__ROUTES__import http from "node:http";

const RESOURCE = "__RESOURCE__";
const REQUIRED_FIELDS = __FIELDS_LIST__;
const MAX_BODY_BYTES = 1_000_000;
const records = new Map();
let nextId = 1;

/** Returns {fields} for a valid body, else {error}. */
function validate(body) {
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

const host = process.env.HOST ?? "127.0.0.1";
const port = Number(process.env.PORT ?? 3000);
const server = http.createServer((req, res) => {
  handle(req, res).catch((error) => {
    console.error(error);
    if (!res.headersSent) send(res, 500, { error: "internal error" });
  });
});
server.listen(port, host, () => {
  console.log(`Listening on http://${host}:${server.address().port}`);
});
"""

HTTP_TS = """// In-memory REST API for __RESOURCE__ on node:http (no dependencies).
__ROUTES__import http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

type Fields = Record<string, unknown>;
type StoredRecord = Fields & { id: number };

const RESOURCE = "__RESOURCE__";
const REQUIRED_FIELDS: readonly string[] = __FIELDS_LIST__;
const MAX_BODY_BYTES = 1_000_000;
const records = new Map<number, StoredRecord>();
let nextId = 1;

function validate(body: unknown): { fields: Fields } | { error: string } {
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
  if (REQUIRED_FIELDS.includes("email") && !String(object.email).includes("@")) {
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

const host = process.env.HOST ?? "127.0.0.1";
const port = Number(process.env.PORT ?? 3000);
const server = http.createServer((req, res) => {
  handle(req, res).catch((error: unknown) => {
    console.error(error);
    if (!res.headersSent) send(res, 500, { error: "internal error" });
  });
});
server.listen(port, host, () => {
  console.log(`Listening on http://${host}:${(server.address() as AddressInfo).port}`);
});
"""
