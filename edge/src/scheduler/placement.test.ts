import { describe, expect, it } from "vitest";
import type { JobKind, Labels } from "../../../shared/src/index.ts";
import type { AgentInfo } from "./agent-registry.ts";
import { canRun, chooseAgent } from "./placement.ts";

const ALL_KINDS: JobKind[] = ["llm.parse", "llm.generate", "sandbox.execute", "export"];

/** A linked, healthy, idle agent that runs every kind; `over` changes what a test is about. */
function agent(over: Partial<AgentInfo> & { agent_id: string }): AgentInfo {
  return {
    labels: {},
    capacity: 4,
    kinds: ALL_KINDS,
    health: { llm: { status: "healthy" }, docker: { status: "available" } },
    connected: true,
    draining: false,
    running: 0,
    connected_at: 1_000,
    last_heartbeat_at: 1_000,
    ...over,
  };
}

const job = (kind: JobKind, labels: Labels = {}) => ({ kind, labels });
const ids = (agents: Iterable<AgentInfo>, spec: ReturnType<typeof job>) => chooseAgent(agents, spec)?.agent_id ?? null;

describe("canRun", () => {
  it.each(ALL_KINDS)("lets a linked, healthy agent run %s", (kind) => {
    expect(canRun(agent({ agent_id: "a" }), job(kind))).toBe(true);
  });

  it("refuses an agent that is disconnected or draining", () => {
    expect(canRun(agent({ agent_id: "a", connected: false }), job("export"))).toBe(false);
    expect(canRun(agent({ agent_id: "a", draining: true }), job("export"))).toBe(false);
  });

  it("refuses a kind the agent did not offer", () => {
    const llmOnly = agent({ agent_id: "a", kinds: ["llm.parse", "llm.generate"] });
    expect(canRun(llmOnly, job("llm.generate"))).toBe(true);
    expect(canRun(llmOnly, job("sandbox.execute"))).toBe(false);
    expect(canRun(llmOnly, job("export"))).toBe(false);
  });

  it("refuses llm kinds when the agent's LLM is unavailable, and only those", () => {
    const noLlm = agent({ agent_id: "a", health: { llm: { status: "unavailable" }, docker: { status: "available" } } });
    expect(canRun(noLlm, job("llm.parse"))).toBe(false);
    expect(canRun(noLlm, job("llm.generate"))).toBe(false);
    expect(canRun(noLlm, job("sandbox.execute"))).toBe(true);
    expect(canRun(noLlm, job("export"))).toBe(true);
  });

  it("still lets an unhealthy (not unavailable) LLM take llm jobs", () => {
    const flaky = agent({ agent_id: "a", health: { llm: { status: "unhealthy" }, docker: { status: "available" } } });
    expect(canRun(flaky, job("llm.generate"))).toBe(true);
  });

  it("refuses sandbox jobs when Docker is unavailable, and only those", () => {
    const noDocker = agent({
      agent_id: "a",
      health: { llm: { status: "healthy" }, docker: { status: "unavailable" } },
    });
    expect(canRun(noDocker, job("sandbox.execute"))).toBe(false);
    expect(canRun(noDocker, job("llm.generate"))).toBe(true);
    expect(canRun(noDocker, job("export"))).toBe(true);
  });

  it("needs every label of the job to match, and ignores the agent's other labels", () => {
    const gpu = agent({ agent_id: "a", labels: { gpu: "a100", region: "eu", tier: "prod" } });
    expect(canRun(gpu, job("llm.generate", {}))).toBe(true);
    expect(canRun(gpu, job("llm.generate", { gpu: "a100" }))).toBe(true);
    expect(canRun(gpu, job("llm.generate", { gpu: "a100", region: "eu" }))).toBe(true);
    expect(canRun(gpu, job("llm.generate", { gpu: "a100", region: "us" }))).toBe(false);
    expect(canRun(gpu, job("llm.generate", { gpu: "a100", zone: "1" }))).toBe(false);
    expect(canRun(agent({ agent_id: "b" }), job("llm.generate", { gpu: "a100" }))).toBe(false);
  });

  it("does not take an inherited object property for a label", () => {
    expect(canRun(agent({ agent_id: "a" }), job("export", { constructor: "Object" }))).toBe(false);
  });
});

describe("chooseAgent", () => {
  it("answers null when no agent is linked", () => {
    expect(chooseAgent([], job("export"))).toBeNull();
  });

  it("picks the agent with the smallest share of its capacity in use", () => {
    const big = agent({ agent_id: "big", capacity: 8, running: 3 }); // 37.5 %
    const small = agent({ agent_id: "small", capacity: 2, running: 1 }); // 50 %
    const busy = agent({ agent_id: "busy", capacity: 4, running: 3 }); // 75 %
    expect(ids([small, busy, big], job("export"))).toBe("big");
    expect(ids([busy, small], job("export"))).toBe("small");
  });

  it("prefers an idle small agent over a big one with any load", () => {
    const big = agent({ agent_id: "big", capacity: 100, running: 1 });
    const small = agent({ agent_id: "small", capacity: 1, running: 0 });
    expect(ids([big, small], job("export"))).toBe("small");
  });

  it("gives a tie in share to the agent linked longest, whatever the order", () => {
    const older = agent({ agent_id: "older", capacity: 2, running: 1, connected_at: 500 });
    const newer = agent({ agent_id: "newer", capacity: 6, running: 3, connected_at: 900 });
    expect(ids([older, newer], job("export"))).toBe("older");
    expect(ids([newer, older], job("export"))).toBe("older");
  });

  it("skips full agents, however long they have been linked", () => {
    const full = agent({ agent_id: "full", capacity: 2, running: 2, connected_at: 1 });
    const nearlyFull = agent({ agent_id: "nearly", capacity: 10, running: 9, connected_at: 2 });
    expect(ids([full, nearlyFull], job("export"))).toBe("nearly");
    expect(ids([full], job("export"))).toBeNull();
  });

  it("skips an agent running more than its capacity (after its capacity shrank) or with none", () => {
    const over = agent({ agent_id: "over", capacity: 2, running: 3 });
    const none = agent({ agent_id: "none", capacity: 0, running: 0 });
    expect(ids([over, none], job("export"))).toBeNull();
    expect(ids([none, over, agent({ agent_id: "ok", running: 3 })], job("export"))).toBe("ok");
  });

  it("skips draining and disconnected agents even when they are idle", () => {
    const draining = agent({ agent_id: "draining", draining: true, connected_at: 1 });
    const gone = agent({ agent_id: "gone", connected: false, connected_at: 2 });
    const loaded = agent({ agent_id: "loaded", running: 3, connected_at: 3 });
    expect(ids([draining, gone, loaded], job("export"))).toBe("loaded");
    expect(ids([draining, gone], job("export"))).toBeNull();
  });

  it("skips agents whose labels do not all match", () => {
    const eu = agent({ agent_id: "eu", labels: { region: "eu" } });
    const euGpu = agent({ agent_id: "eu-gpu", labels: { region: "eu", gpu: "a100" }, running: 3 });
    expect(ids([eu, euGpu], job("llm.generate", { region: "eu", gpu: "a100" }))).toBe("eu-gpu");
    expect(ids([eu, euGpu], job("llm.generate", { region: "us" }))).toBeNull();
  });

  it("skips agents whose LLM is unavailable for llm kinds, and those without Docker for sandbox jobs", () => {
    const noLlm = agent({
      agent_id: "no-llm",
      health: { llm: { status: "unavailable" }, docker: { status: "available" } },
    });
    const noDocker = agent({
      agent_id: "no-docker",
      health: { llm: { status: "healthy" }, docker: { status: "unavailable" } },
      running: 2,
    });
    expect(ids([noLlm, noDocker], job("llm.parse"))).toBe("no-docker");
    expect(ids([noLlm, noDocker], job("sandbox.execute"))).toBe("no-llm");
  });

  it("reads agents from any iterable, such as a registry's Map", () => {
    const registry = new Map([
      ["a", agent({ agent_id: "a", running: 2 })],
      ["b", agent({ agent_id: "b", running: 1 })],
    ]);
    expect(ids(registry.values(), job("export"))).toBe("b");
  });
});
