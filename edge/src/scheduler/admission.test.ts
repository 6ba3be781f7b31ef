import { describe, expect, it } from "vitest";
import { retryAfterSeconds } from "./admission.ts";
import { slotOf } from "./job-placement.ts";

describe("admission's retry hint", () => {
  it("is the waves of pipelines ahead times the average latency, between 1 and 300 seconds", () => {
    expect(retryAfterSeconds(2, 0, 10)).toBe(2);
    expect(retryAfterSeconds(2, 10, 10)).toBe(4);
    expect(retryAfterSeconds(0.01, 0, 10)).toBe(1);
    expect(retryAfterSeconds(60, 1000, 10)).toBe(300);
  });
});

describe("job slots", () => {
  it("keys a pipeline's jobs by the pipeline, so its next job takes the slot of the last", () => {
    const owner = { kind: "pipeline", id: "p1" } as const;
    expect(slotOf({ job_id: "p1/parsing", attempt: 1, owner })).toBe(
      slotOf({ job_id: "p1/generating", attempt: 3, owner }),
    );
  });

  it("gives each attempt of an execution's job a slot of its own", () => {
    const owner = { kind: "execution", id: "shard-1" } as const;
    const a = slotOf({ job_id: "execute/a", attempt: 1, owner });
    expect(a).not.toBe(slotOf({ job_id: "execute/b", attempt: 1, owner }));
    expect(a).not.toBe(slotOf({ job_id: "execute/a", attempt: 2, owner }));
  });
});
