import type { JobSpec } from "../jobs/job.ts";
import type { AgentInfo } from "./agent-registry.ts";

/** Whether an agent could run a job at all (connected, not draining, the kind, the labels). */
export function canRun(
  agent: Pick<AgentInfo, "connected" | "draining" | "kinds" | "health" | "labels">,
  spec: Pick<JobSpec, "kind" | "labels">,
): boolean {
  if (!agent.connected || agent.draining || !agent.kinds.includes(spec.kind)) return false;
  if (spec.kind.startsWith("llm.") && agent.health.llm.status === "unavailable") return false;
  if (spec.kind === "sandbox.execute" && agent.health.docker.status !== "available") return false;
  return Object.entries(spec.labels).every(([key, value]) => agent.labels[key] === value);
}

/**
 * The least-loaded agent that can run the job and has a free slot, or null. Load is the share of
 * capacity in use, so a big host takes proportionally more; ties go to the agent linked longest.
 */
export function chooseAgent(agents: Iterable<AgentInfo>, spec: Pick<JobSpec, "kind" | "labels">): AgentInfo | null {
  let best: AgentInfo | null = null;
  for (const agent of agents) {
    if (!canRun(agent, spec) || agent.running >= agent.capacity) continue;
    if (
      best === null ||
      agent.running / agent.capacity < best.running / best.capacity ||
      (agent.running / agent.capacity === best.running / best.capacity && agent.connected_at < best.connected_at)
    ) {
      best = agent;
    }
  }
  return best;
}
