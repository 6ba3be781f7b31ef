"""Sources of the JavaScript and TypeScript REST API templates on express."""

EXPRESS_JS = """// In-memory REST API for __RESOURCE__ on express.
__ROUTES__import express from "express";

const RESOURCE = "__RESOURCE__";
const REQUIRED_FIELDS = __FIELDS_LIST__;
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

function recordId(req) {
  return /^[0-9]{1,15}$/.test(req.params.id) ? Number(req.params.id) : null;
}

const app = express();
app.use(express.json({ limit: "1mb" }));

app.get("/health", (_req, res) => {
  res.json({ status: "ok" });
});

app.get(`/${RESOURCE}`, (_req, res) => {
  res.json([...records.values()]);
});

app.post(`/${RESOURCE}`, (req, res) => {
  const result = validate(req.body);
  if ("error" in result) return res.status(400).json({ error: result.error });
  const record = { id: nextId++, ...result.fields };
  records.set(record.id, record);
  res.status(201).json(record);
});

app.get(`/${RESOURCE}/:id`, (req, res) => {
  const record = records.get(recordId(req));
  if (!record) return res.status(404).json({ error: "not found" });
  res.json(record);
});

app.put(`/${RESOURCE}/:id`, (req, res) => {
  const id = recordId(req);
  if (!records.has(id)) return res.status(404).json({ error: "not found" });
  const result = validate(req.body);
  if ("error" in result) return res.status(400).json({ error: result.error });
  const record = { id, ...result.fields };
  records.set(id, record);
  res.json(record);
});

app.delete(`/${RESOURCE}/:id`, (req, res) => {
  if (!records.delete(recordId(req))) return res.status(404).json({ error: "not found" });
  res.status(204).end();
});

app.use((_req, res) => {
  res.status(404).json({ error: "not found" });
});

// express.json() reports a body that is not JSON as an error with status 400.
app.use((error, _req, res, _next) => {
  const status = error.status === 400 ? 400 : 500;
  res.status(status).json({ error: status === 400 ? "the body is not valid JSON" : "internal error" });
});

const host = process.env.HOST ?? "127.0.0.1";
const port = Number(process.env.PORT ?? 3000);
const server = app.listen(port, host, () => {
  console.log(`Listening on http://${host}:${server.address().port}`);
});
"""

EXPRESS_TS = """// In-memory REST API for __RESOURCE__ on express.
__ROUTES__import express from "express";
import type { NextFunction, Request, Response } from "express";
import type { AddressInfo } from "node:net";

type Fields = Record<string, unknown>;
type StoredRecord = Fields & { id: number };

const RESOURCE = "__RESOURCE__";
const REQUIRED_FIELDS: readonly string[] = __FIELDS_LIST__;
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

function recordId(req: Request): number {
  const raw = String(req.params.id);
  return /^[0-9]{1,15}$/.test(raw) ? Number(raw) : -1;
}

const app = express();
app.use(express.json({ limit: "1mb" }));

app.get("/health", (_req: Request, res: Response) => {
  res.json({ status: "ok" });
});

app.get(`/${RESOURCE}`, (_req: Request, res: Response) => {
  res.json([...records.values()]);
});

app.post(`/${RESOURCE}`, (req: Request, res: Response) => {
  const result = validate(req.body);
  if ("error" in result) {
    res.status(400).json({ error: result.error });
    return;
  }
  const record: StoredRecord = { id: nextId++, ...result.fields };
  records.set(record.id, record);
  res.status(201).json(record);
});

app.get(`/${RESOURCE}/:id`, (req: Request, res: Response) => {
  const record = records.get(recordId(req));
  if (!record) {
    res.status(404).json({ error: "not found" });
    return;
  }
  res.json(record);
});

app.put(`/${RESOURCE}/:id`, (req: Request, res: Response) => {
  const id = recordId(req);
  if (!records.has(id)) {
    res.status(404).json({ error: "not found" });
    return;
  }
  const result = validate(req.body);
  if ("error" in result) {
    res.status(400).json({ error: result.error });
    return;
  }
  const record: StoredRecord = { id, ...result.fields };
  records.set(id, record);
  res.json(record);
});

app.delete(`/${RESOURCE}/:id`, (req: Request, res: Response) => {
  if (!records.delete(recordId(req))) {
    res.status(404).json({ error: "not found" });
    return;
  }
  res.status(204).end();
});

app.use((_req: Request, res: Response) => {
  res.status(404).json({ error: "not found" });
});

// express.json() reports a body that is not JSON as an error with status 400.
app.use((error: { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
  const status = error.status === 400 ? 400 : 500;
  res.status(status).json({ error: status === 400 ? "the body is not valid JSON" : "internal error" });
});

const host = process.env.HOST ?? "127.0.0.1";
const port = Number(process.env.PORT ?? 3000);
const server = app.listen(port, host, () => {
  console.log(`Listening on http://${host}:${(server.address() as AddressInfo).port}`);
});
"""
