import type { ErrorCode, PipelineState, StageName } from "../../../shared/src/index.ts";
import type { AgentInfo } from "../scheduler/agent-registry.ts";
import type { HistogramState } from "./histogram.ts";

/** The pool's counters, in the order the metrics routes list them. */
export const COUNTERS = [
  "total_requests",
  "successful_requests",
  "failed_requests",
  "cancelled_requests",
  "rejected_requests",
] as const;
export type Counter = (typeof COUNTERS)[number];

/** The histogram of a pipeline's whole latency, by how it ended. */
export function pipelineHistogram(state: Extract<PipelineState, "COMPLETED" | "FAILED" | "CANCELLED">): string {
  return `pipeline_${state.toLowerCase()}`;
}

/** The histogram of one stage's durations. */
export function stageHistogram(stage: StageName): string {
  return `stage_${stage.toLowerCase()}`;
}

/** The histogram of the time pipelines wait for a running slot. */
export const QUEUE_WAIT_HISTOGRAM = "queue_wait";

/** How an `/api/execute` run ended, as the metrics count it. */
export const EXECUTION_OUTCOMES = ["ok", "failed", "timed_out", "cancelled"] as const;
export type ExecutionMetricOutcome = (typeof EXECUTION_OUTCOMES)[number];

/** The histogram of the durations of runs that ended so; its count is how many did. */
export function executionHistogram(outcome: ExecutionMetricOutcome): string {
  return `execution_${outcome}`;
}

/** How a verified pipeline's verification ended. */
export const VERIFICATION_STATUSES = ["passed", "failed", "skipped"] as const;
export type VerificationStatus = (typeof VERIFICATION_STATUSES)[number];

/** Finished verified pipelines that ended with `status` after `repairs` repair rounds. */
export interface VerificationCount {
  status: VerificationStatus;
  repairs: number;
  count: number;
}

/** Everything the metrics routes read from a pool's scheduler, in one RPC. */
export interface MetricsSnapshot {
  counters: Record<Counter, number>;
  histograms: Record<string, HistogramState>;
  /** Failed `/api/execute` runs by error code (codes never seen are left out). */
  execution_failures: Partial<Record<ErrorCode, number>>;
  /** Verified pipelines by verdict and repairs used (combinations never seen are left out). */
  verifications: VerificationCount[];
  active_pipelines: number;
  queue_size: number;
  queue_by_priority: { high: number; normal: number; low: number };
  /** Pipelines running and queued per API key (owner id; null for an open edge's). */
  tenants: Array<{ owner: string | null; running: number; queued: number }>;
  jobs_waiting: number;
  jobs_running: number;
  max_concurrent: number;
  max_queue_size: number;
  agents: AgentInfo[];
}
