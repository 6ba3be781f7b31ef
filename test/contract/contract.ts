import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { expect } from "vitest";

/**
 * The OpenAPI document as a contract: every answer a test provokes is checked against the
 * operation it came from (status, headers, media type, body) with Ajv in strict mode, reading the
 * schemas where the document holds them, so `$ref`s resolve as any client's would. Each check is
 * recorded, so a test can ask what was covered.
 */

type Json = Record<string, unknown>;

const DOC_ID = "urn:atomic:openapi";
// Top-level fields of an OpenAPI document: known to Ajv, so strict mode accepts the document as
// the root that schemas are looked up in; only the schemas themselves are compiled.
const DOCUMENT_FIELDS = ["openapi", "info", "servers", "tags", "paths", "components", "security", "webhooks"];

// Headers HTTP, CORS or WebSocket framing put on answers; every other header must be documented.
const TRANSPORT =
  /^(content-type|content-length|content-encoding|date|connection|keep-alive|transfer-encoding|vary|access-control-.*|sec-websocket-.*|upgrade)$/;

export interface Answer {
  status: number;
  headers: Headers;
  body: string;
}

export interface SseItem {
  id?: string;
  event?: string;
  data?: string;
  retry?: number;
}

function isJson(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function child(node: unknown, key: string): unknown {
  return isJson(node) ? node[key] : undefined;
}

const pointer = (parts: Array<string | number>) =>
  `${DOC_ID}#/${parts.map((p) => encodeURIComponent(String(p).replace(/~/g, "~0").replace(/\//g, "~1"))).join("/")}`;

/** Parses an SSE body into its events, field by field as the SSE standard reads them. */
export function parseSseItems(text: string): SseItem[] {
  const items: SseItem[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const item: SseItem = {};
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line === "" || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "data") data.push(value);
      else if (field === "id" || field === "event") item[field] = value;
      else if (field === "retry") item.retry = Number(value);
      else throw new Error(`SSE field ${field} is not one the standard knows`);
    }
    if (data.length > 0) item.data = data.join("\n");
    if (Object.keys(item).length > 0) items.push(item);
  }
  return items;
}

export class Contract {
  readonly document: Json;
  /** `METHOD /template STATUS` of every answer checked. */
  readonly covered = new Set<string>();
  readonly #ajv: Ajv2020;
  readonly #compiled = new Map<string, ValidateFunction>();

  constructor(document: unknown) {
    if (!isJson(document)) throw new Error("the document is not a JSON object");
    this.document = document;
    this.#ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats(this.#ajv);
    for (const field of DOCUMENT_FIELDS) this.#ajv.addKeyword(field);
    this.#ajv.addSchema({ ...document, $id: DOC_ID });
  }

  /** `[template, method]` of every operation in the document. */
  operations(): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    for (const [template, item] of Object.entries(this.#paths())) {
      for (const method of Object.keys(isJson(item) ? item : {})) out.push([template, method]);
    }
    return out;
  }

  /** The documented statuses of an operation. */
  statuses(template: string, method: string): string[] {
    return Object.keys(this.#responses(template, method));
  }

  /** The operation object (for its security, `x-websocket`, ...). */
  operation(template: string, method: string): Json {
    const op = child(this.#paths()[template], method);
    if (!isJson(op)) throw new Error(`the document has no ${method.toUpperCase()} ${template}`);
    return op;
  }

  /** Validates `value` against the schema at `parts` in the document; fails the test naming what differs. */
  validate(parts: Array<string | number>, value: unknown, what: string): void {
    const key = pointer(parts);
    let validate = this.#compiled.get(key);
    if (!validate) {
      validate = this.#ajv.getSchema(key);
      if (!validate) throw new Error(`no schema at ${key}`);
      this.#compiled.set(key, validate);
    }
    const ok = validate(value);
    expect(
      ok,
      `${what} does not match ${parts.join(" ")}: ${this.#ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 1500)}`,
    ).toBe(true);
  }

  /** Checks one HTTP answer of `method template` against the document. */
  check(method: string, template: string, answer: Answer): void {
    const label = `${method.toUpperCase()} ${template} ${answer.status}`;
    const responses = this.#responses(template, method.toLowerCase());
    const status = String(answer.status);
    expect(Object.keys(responses), `${label} is not documented: ${answer.body.slice(0, 500)}`).toContain(status);
    const base = ["paths", template, method.toLowerCase(), "responses", status];
    const response = this.#resolve(responses[status]);
    this.#checkHeaders(label, base, response, answer.headers);
    const content = child(response, "content");
    if (!isJson(content)) {
      expect(answer.body, `${label} has a body the document does not describe`).toBe("");
    } else {
      this.#checkContent(label, base, content, answer);
    }
    this.covered.add(label);
  }

  /** Checks WebSocket frames of `template` (`client`: what a client sends; `server`: what the edge sends). */
  checkFrames(template: string, side: "client" | "server", frames: unknown[]): void {
    for (const frame of frames) {
      this.validate(["paths", template, "get", "x-websocket", side], frame, `a ${side} frame of ${template}`);
      const type = child(frame, "type");
      this.covered.add(`WS ${template} ${side} ${typeof type === "string" ? type : "?"}`);
    }
  }

  #paths(): Json {
    const paths = this.document["paths"];
    if (!isJson(paths)) throw new Error("the document has no paths");
    return paths;
  }

  #responses(template: string, method: string): Json {
    const responses = this.operation(template, method)["responses"];
    if (!isJson(responses)) throw new Error(`${method} ${template} has no responses`);
    return responses;
  }

  #resolve(node: unknown): Json {
    const target = child(node, "$ref");
    if (typeof target !== "string") {
      if (!isJson(node)) throw new Error("not an object");
      return node;
    }
    let at: unknown = this.document;
    for (const part of target.replace(/^#\//, "").split("/"))
      at = child(at, part.replace(/~1/g, "/").replace(/~0/g, "~"));
    return this.#resolve(at);
  }

  #checkHeaders(label: string, base: Array<string | number>, response: Json, headers: Headers): void {
    const documented = child(response, "headers");
    const declared = isJson(documented) ? documented : {};
    const names = new Map(Object.keys(declared).map((name) => [name.toLowerCase(), name]));
    for (const [name, value] of headers) {
      if (TRANSPORT.test(name)) continue;
      const declaredName = names.get(name);
      expect(declaredName, `${label} sends header ${name}: ${value}, which the document does not list`).toBeDefined();
    }
    for (const [name, node] of Object.entries(declared)) {
      const target = child(node, "$ref");
      const at = typeof target === "string" ? target.replace(/^#\//, "").split("/") : [...base, "headers", name];
      const header = this.#resolve(node);
      const value = headers.get(name);
      if (value === null) {
        expect(header["required"] === true, `${label} lacks the required header ${name}`).toBe(false);
        continue;
      }
      const schema = this.#resolve(header["schema"]);
      const typed = schema["type"] === "integer" || schema["type"] === "number" ? Number(value) : value;
      this.validate([...at, "schema"], typed, `${label} header ${name}`);
    }
  }

  #checkContent(label: string, base: Array<string | number>, content: Json, answer: Answer): void {
    const type = (answer.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    const media = Object.keys(content).find(
      (range) => range === type || range === "*/*" || (range.endsWith("/*") && type.startsWith(range.slice(0, -1))),
    );
    expect(
      media,
      `${label} answers ${type || "no Content-Type"}, not one of ${Object.keys(content).join(", ")}`,
    ).toBeDefined();
    if (media === undefined) return;
    const at = [...base, "content", media];
    const entry = this.#resolve(content[media]);
    if (isJson(entry["itemSchema"])) {
      const items = parseSseItems(answer.body);
      expect(items.length, `${label}: an empty event stream`).toBeGreaterThan(0);
      for (const item of items) this.#checkSseItem(label, [...at, "itemSchema"], entry["itemSchema"], item);
    } else if (media === "application/json") {
      this.validate([...at, "schema"], JSON.parse(answer.body), `${label} body`);
    } else if (isJson(entry["schema"]) && entry["schema"]["type"] === "string") {
      this.validate([...at, "schema"], answer.body, `${label} body`);
    }
  }

  /** One SSE event: its fields against `itemSchema`, then its data against the `contentSchema` of the branch it took. */
  #checkSseItem(label: string, at: Array<string | number>, itemSchema: Json, item: SseItem): void {
    this.validate(at, item, `${label} SSE event`);
    if (item.data === undefined) return;
    const branches = Array.isArray(itemSchema["oneOf"]) ? itemSchema["oneOf"] : [];
    const index = branches.findIndex(
      (branch) => child(child(child(branch, "properties"), "event"), "const") === item.event,
    );
    expect(index, `${label}: no branch of itemSchema for event ${item.event}`).toBeGreaterThanOrEqual(0);
    this.validate(
      [...at, "oneOf", index, "properties", "data", "contentSchema"],
      JSON.parse(item.data),
      `${label} event ${item.event}`,
    );
    this.covered.add(`SSE ${label} ${item.event}`);
  }
}

/** Reads a fetch answer whole, for `Contract.check`. */
export async function answerOf(res: Response): Promise<Answer> {
  return { status: res.status, headers: res.headers, body: await res.text() };
}
