import type { AgentHealth, ErrorCode, JobKind, Labels, StageName } from "../../../shared/src/index.ts";
import type { ExecutionMetricOutcome } from "../metrics/snapshot.ts";
import type { KeptJob } from "./job-placement.ts";

/** What a pipeline reports to its pool's scheduler when it ends: for admission and the metrics. */
export interface FinishedPipeline {
  pipeline_id: string;
  state: "COMPLETED" | "FAILED" | "CANCELLED";
  latency_ms: number;
  /** When it ended (epoch ms), as its record says. */
  finished_at: number;
  queue_ms: number;
  admitted: boolean;
  stages: Array<{ stage: StageName; duration_ms: number }>;
  /** A verified pipeline's verdict and the repairs it used; null when it asked for none. */
  verification: { status: "passed" | "failed" | "skipped"; repairs: number } | null;
}

/** What an `/api/execute` run reports to its pool's scheduler when it is answered: for the metrics. */
export type FinishedExecution =
  | { outcome: Exclude<ExecutionMetricOutcome, "failed">; duration_ms: number }
  | { outcome: "failed"; code: ErrorCode; duration_ms: number };

/** What an agent link reports to its pool's scheduler when its host-agent says hello. */
export interface AgentUp {
  agent_id: string;
  labels: Labels;
  capacity: number;
  kinds: JobKind[];
  health: AgentHealth;
  /** Jobs it still runs from before (kept across a reconnect). */
  jobs: KeptJob[];
}
