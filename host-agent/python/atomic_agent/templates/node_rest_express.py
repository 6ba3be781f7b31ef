"""The JavaScript and TypeScript REST API on express: the app module, and its tests (supertest
drives the app in-process, no port to choose, no network)."""

EXPRESS_APP_JS = """// In-memory REST API for __RESOURCE__ on express.
__ROUTES__import express from "express";

const RESOURCE = "__RESOURCE__";
const REQUIRED_FIELDS = __FIELDS_LIST__;

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

function recordId(req) {
  return /^[0-9]{1,15}$/.test(req.params.id) ? Number(req.params.id) : null;
}

/** The API as an express app with a store of its own; it listens only when told to (__MAIN__ does). */
export function createApp() {
  const records = new Map();
  let nextId = 1;
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
  return app;
}
"""

EXPRESS_APP_TS = """// In-memory REST API for __RESOURCE__ on express.
__ROUTES__import express from "express";
import type { Express, NextFunction, Request, Response } from "express";

type Fields = Record<string, unknown>;
type StoredRecord = Fields & { id: number };

const RESOURCE = "__RESOURCE__";
const REQUIRED_FIELDS: readonly string[] = __FIELDS_LIST__;

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

function recordId(req: Request): number {
  const raw = String(req.params["id"]);
  return /^[0-9]{1,15}$/.test(raw) ? Number(raw) : -1;
}

/** The API as an express app with a store of its own; it listens only when told to (__MAIN__ does). */
export function createApp(): Express {
  const records = new Map<number, StoredRecord>();
  let nextId = 1;
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
  return app;
}
"""

EXPRESS_MAIN_JS = """// Starts the API of __APP__: PORT=3000 __RUN__  (HOST defaults to 127.0.0.1; PORT=0 picks a free port)
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createApp } from "./__APP__";
__RUN_DIRECTLY__
if (runDirectly()) {
  const host = process.env.HOST ?? "127.0.0.1";
  const port = Number(process.env.PORT ?? 3000);
  const server = createApp().listen(port, host, () => {
    console.log(`Listening on http://${host}:${server.address().port}`);
  });
}
"""

EXPRESS_MAIN_TS = """// Starts the API of __APP__: PORT=3000 __RUN__  (HOST defaults to 127.0.0.1; PORT=0 picks a free port)
import { realpathSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { createApp } from "./__APP__";
__RUN_DIRECTLY__
if (runDirectly()) {
  const host = process.env["HOST"] ?? "127.0.0.1";
  const port = Number(process.env["PORT"] ?? 3000);
  const server = createApp().listen(port, host, () => {
    console.log(`Listening on http://${host}:${(server.address() as AddressInfo).port}`);
  });
}
"""

# JavaScript and TypeScript: the same tests (supertest's answers are typed `any`).
EXPRESS_TEST = """// Tests of the API in __APP__: supertest serves the app in-process for each request.
import assert from "node:assert/strict";
import { test } from "node:test";
import request from "supertest";
import { createApp, validate } from "./__APP__";

const VALID = __VALID__;
const OTHER = __OTHER__;

test("GET /health answers ok", async () => {
  const res = await request(createApp()).get("/health");
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { status: "ok" });
});

test("create, read, list, replace and delete", async () => {
  const api = request(createApp());
  assert.deepEqual((await api.get("/__RESOURCE__").expect(200)).body, []);
  const created = await api.post("/__RESOURCE__").send(VALID);
  assert.equal(created.status, 201);
  assert.deepEqual(created.body, { id: 1, ...VALID });
  assert.deepEqual((await api.get("/__RESOURCE__/1").expect(200)).body, { id: 1, ...VALID });
  assert.deepEqual((await api.put("/__RESOURCE__/1").send(OTHER).expect(200)).body, { id: 1, ...OTHER });
  assert.deepEqual((await api.post("/__RESOURCE__").send(VALID).expect(201)).body, { id: 2, ...VALID });
  assert.deepEqual((await api.get("/__RESOURCE__").expect(200)).body, [
    { id: 1, ...OTHER },
    { id: 2, ...VALID },
  ]);
  await api.delete("/__RESOURCE__/1").expect(204);
  await api.get("/__RESOURCE__/1").expect(404);
  await api.delete("/__RESOURCE__/1").expect(404);
});

test("an invalid body is a 400 and stores nothing", async () => {
  const api = request(createApp());
  for (const field of Object.keys(VALID)) {
    const incomplete = Object.fromEntries(Object.entries(VALID).filter(([key]) => key !== field));
    await api.post("/__RESOURCE__").send(incomplete).expect(400);
  }
  await api.post("/__RESOURCE__").send([VALID]).expect(400);
  await api.post("/__RESOURCE__").set("Content-Type", "application/json").send("{not json").expect(400);
  assert.deepEqual((await api.get("/__RESOURCE__").expect(200)).body, []);
});

test("unknown paths and records are 404", async () => {
  const api = request(createApp());
  await api.get("/nothing-here").expect(404);
  await api.get("/__RESOURCE__/42").expect(404);
  await api.put("/__RESOURCE__/42").send(VALID).expect(404);
});

test("validate() keeps the fields and drops an id", () => {
  assert.deepEqual(validate({ ...VALID, id: 7 }), { fields: VALID });
  assert.ok("error" in validate({}));
});
"""

# Appended to the tests of a resource with an email field.
EXPRESS_EMAIL_TEST = """
test("an email needs an @", async () => {
  await request(createApp())
    .post("/__RESOURCE__")
    .send({ ...VALID, email: "not-an-email" })
    .expect(400);
});
"""
