import { describe, expect, it } from "vitest";
import { canonicalJson, keyObjectName, readIdempotencyKey, requestFingerprint } from "./request-key.ts";

describe("Idempotency-Key rules", () => {
  it("reads a key of visible ASCII and refuses empty, long or spaced ones with a message", () => {
    expect(readIdempotencyKey(undefined)).toEqual({ ok: true, key: null });
    expect(readIdempotencyKey("a1b2-c3")).toEqual({ ok: true, key: "a1b2-c3" });
    expect(readIdempotencyKey("")).toMatchObject({ ok: false, message: expect.stringContaining("1-255") });
    expect(readIdempotencyKey("x".repeat(256))).toMatchObject({ ok: false });
    expect(readIdempotencyKey("has space")).toMatchObject({ ok: false, message: expect.stringContaining("visible") });
    expect(readIdempotencyKey("tab\there")).toMatchObject({ ok: false });
  });

  it("takes JSON bodies with reordered keys as the same request, and any other change as another", async () => {
    expect(canonicalJson(JSON.parse('{"b":1,"a":{"d":2,"c":[{"y":1,"x":2}]}}'))).toBe(
      canonicalJson(JSON.parse('{ "a": {"c": [{"x": 2, "y": 1}], "d": 2}, "b": 1 }')),
    );
    const one = await requestFingerprint("POST /api/generate", "", { prompt: "a", priority: "high" });
    expect(await requestFingerprint("POST /api/generate", "", { priority: "high", prompt: "a" })).toBe(one);
    expect(await requestFingerprint("POST /api/generate", "", { prompt: "b", priority: "high" })).not.toBe(one);
    expect(await requestFingerprint("POST /api/execute", "", { prompt: "a", priority: "high" })).not.toBe(one);
    expect(await requestFingerprint("POST /api/execute", "pool=x", {})).not.toBe(
      await requestFingerprint("POST /api/execute", "", {}),
    );
    // Arrays keep their order: a list in another order is another request.
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
  });

  it("scopes a key to its route and to the API key that sent it", async () => {
    const name = await keyObjectName("POST /api/generate", "owner-a", "k");
    expect(name).toMatch(/^[0-9a-f]{64}$/);
    expect(await keyObjectName("POST /api/generate", "owner-b", "k")).not.toBe(name);
    expect(await keyObjectName("POST /api/generate", null, "k")).not.toBe(name);
    expect(await keyObjectName("POST /api/execute", "owner-a", "k")).not.toBe(name);
  });
});
