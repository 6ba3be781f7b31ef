import { describe, expect, it } from "vitest";
import { expectedPosition, nextTurn, type FairState, type TenantQueue } from "./fair-order.ts";

const state = (over: Partial<FairState> = {}): FairState => ({
  running: new Map(),
  capPerTenant: 0,
  lastServed: new Map(),
  ...over,
});

/** Admits `times` pipelines from `queues` the way Admission.pump does, returning whose they were. */
function drain(queues: TenantQueue[], times: number, fair: FairState = state()): string[] {
  const running = new Map(fair.running);
  const lastServed = new Map(fair.lastServed);
  const order: string[] = [];
  for (let i = 0; i < times; i++) {
    const turn = nextTurn(queues, { ...fair, running, lastServed });
    if (!turn) break;
    const q = queues.find((x) => x.rank === turn.rank && x.owner === turn.owner)!;
    q.count -= 1;
    running.set(turn.owner, (running.get(turn.owner) ?? 0) + 1);
    lastServed.set(turn.rank, turn.owner);
    order.push(`${turn.rank}:${turn.owner}`);
  }
  return order;
}

describe("fair admission between API keys", () => {
  it("alternates between keys within a priority however many one key queued", () => {
    const queues = [
      { rank: 1, owner: "flood", count: 30 },
      { rank: 1, owner: "small", count: 2 },
    ];
    expect(drain(queues, 6)).toEqual(["1:flood", "1:small", "1:flood", "1:small", "1:flood", "1:flood"]);
  });

  it("goes on after the key served last, so a newcomer waits at most one turn of each other key", () => {
    const queues = [
      { rank: 1, owner: "a", count: 5 },
      { rank: 1, owner: "b", count: 5 },
      { rank: 1, owner: "c", count: 1 },
    ];
    expect(drain(queues, 4, state({ lastServed: new Map([[1, "a"]]) }))).toEqual(["1:b", "1:c", "1:a", "1:b"]);
  });

  it("keeps priorities strict: every key's high before any normal", () => {
    const queues = [
      { rank: 1, owner: "a", count: 2 },
      { rank: 0, owner: "b", count: 1 },
      { rank: 2, owner: "b", count: 1 },
    ];
    expect(drain(queues, 4)).toEqual(["0:b", "1:a", "1:a", "2:b"]);
  });

  it("passes over a key at its cap, down to lower priorities, and admits nothing when all are capped", () => {
    const running = new Map([["a", 2]]);
    const queues = [
      { rank: 0, owner: "a", count: 3 },
      { rank: 1, owner: "b", count: 1 },
    ];
    expect(drain(queues, 3, state({ running, capPerTenant: 2 }))).toEqual(["1:b"]);
    expect(nextTurn([{ rank: 0, owner: "a", count: 3 }], state({ running, capPerTenant: 2 }))).toBeNull();
    expect(nextTurn([], state())).toBeNull();
  });

  it("expects a queued pipeline's place from the turns ahead of it", () => {
    const queues = [
      { rank: 0, owner: "a", count: 4 },
      { rank: 1, owner: "flood", count: 30 },
      { rank: 1, owner: "small", count: 2 },
    ];
    // 4 high, then small's 2nd: 2 of flood's and small's own 2.
    expect(expectedPosition(queues, 1, "small")).toBe(8);
    expect(expectedPosition(queues, 1, "flood")).toBe(4 + 2 + 30);
    expect(expectedPosition([], 1, "new")).toBe(1);
  });
});
