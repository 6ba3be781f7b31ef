import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHandle } from "../support/edge.ts";

let edge: EdgeHandle;

beforeAll(async () => {
  edge = await startEdge({ ATOMIC_AGENT_WAIT_MS: "200" });
});
afterAll(async () => edge?.dispose());

async function post(path: string, body: Uint8Array | string, headers: Record<string, string>) {
  const res = await fetch(`${edge.url}${path}`, { method: "POST", headers, body });
  return { status: res.status, body: (await res.json()) as { error: { code: string; message: string } } };
}

const SECRET_JSON = '{"prompt":"my secret prompt sk-live-123"}';

describe("request bodies the edge cannot read", () => {
  for (const path of ["/api/generate", "/api/execute"]) {
    it(`${path}: a gzip body answers 415 naming the encoding, and echoes nothing of it`, async () => {
      const res = await post(path, gzipSync(SECRET_JSON), {
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
      });
      expect(res.status).toBe(415);
      expect(res.body.error.code).toBe("unsupported_media_type");
      expect(res.body.error.message).toContain("gzip");
      expect(res.body.error.message).not.toMatch(/[^\x20-\x7e…]/);
    });
  }

  it("a body that is not JSON answers 400 with where it broke, never the body's bytes", async () => {
    const binary = new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0xff, 0x00, 0x41, 0x42, 0x43]);
    const res = await post("/api/generate", binary, { "Content-Type": "application/json" });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_json");
    expect(res.body.error.message).toMatch(/^the request body is not valid JSON/);
    expect(res.body.error.message).not.toMatch(/[^\x20-\x7e]/);
    const secret = await post("/api/generate", `${SECRET_JSON.slice(0, -1)}, oops}`, {
      "Content-Type": "application/json",
    });
    expect(secret.status).toBe(400);
    expect(secret.body.error.message).not.toContain("secret");
  });

  it("a long Content-Type is quoted cut short", async () => {
    const res = await post("/api/generate", SECRET_JSON, { "Content-Type": `text/plain; x=${"y".repeat(5000)}` });
    expect(res.status).toBe(400);
    expect(res.body.error.message.length).toBeLessThan(200);
  });
});
