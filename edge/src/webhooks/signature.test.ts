import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { secretBytes, signWebhook } from "./signature.ts";

const SECRET = `whsec_${btoa("a webhook secret of 32 bytes!!!!")}`;

describe("webhook signatures", () => {
  it("are accepted by the standardwebhooks package, and refused once the body changes", async () => {
    const body = JSON.stringify({ type: "pipeline.completed", data: { pipeline_id: "p1" } });
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = await signWebhook(SECRET, "msg_p1", timestamp, body);
    expect(signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const headers = { "webhook-id": "msg_p1", "webhook-timestamp": String(timestamp), "webhook-signature": signature };
    expect(new Webhook(SECRET).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(SECRET).verify(body.replace("p1", "p2"), headers)).toThrow();
  });

  it("take only whsec_ secrets of at least 24 bytes", () => {
    expect(secretBytes(SECRET)?.length).toBe(32);
    expect(secretBytes("whsec_c2hvcnQ=")).toBeNull();
    expect(secretBytes(SECRET.slice("whsec_".length))).toBeNull();
    expect(secretBytes("whsec_not base64!")).toBeNull();
  });
});
