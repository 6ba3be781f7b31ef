import type { AgentHealth, JobKind, Labels, Priority } from "../../../shared/src/index.ts";

/** Who waits for a job's events and result: a pipeline, or an `/api/execute` execution. */
export interface JobOwner {
  kind: "pipeline" | "execution";
  id: string;
}

/** One attempt of one job. */
export interface JobRef {
  job_id: string;
  attempt: number;
}

/** A job a pipeline (or an execution) asks the scheduler to place on a host-agent. */
export interface JobSpec {
  job_id: string;
  attempt: number;
  owner: JobOwner;
  /** Sent to the agent for its logs; null for executions. */
  pipeline_id: string | null;
  kind: JobKind;
  payload: unknown;
  labels: Labels;
  priority: Priority;
  /** How long the job may run once placed. */
  deadline_ms: number;
  /** `wait`: queue until an agent can take it (up to `wait_ms`); `if-available`: now or never. */
  mode: "wait" | "if-available";
  wait_ms: number;
}

export type PlaceOutcome = { status: "placed"; agent_id: string } | { status: "queued" } | { status: "unavailable" };

export type EnqueueOutcome =
  | { status: "admitted"; position: number }
  | { status: "queued"; position: number }
  | { status: "full"; retry_after_s: number };

/** What the scheduler knows of one host-agent. */
export interface AgentInfo {
  agent_id: string;
  labels: Labels;
  capacity: number;
  kinds: JobKind[];
  health: AgentHealth;
  connected: boolean;
  draining: boolean;
  /** Jobs placed on it and not released yet. */
  running: number;
  connected_at: number;
}

export const PRIORITY_RANK: Record<Priority, number> = { high: 0, normal: 1, low: 2 };
