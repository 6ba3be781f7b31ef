import type { AgentInfo } from "../scheduler/jobs.ts";
import type { HistogramState } from "./histogram.ts";

/** Everything the metrics routes read from a pool's scheduler, in one RPC. */
export interface MetricsSnapshot {
  counters: {
    total_requests: number;
    successful_requests: number;
    failed_requests: number;
    cancelled_requests: number;
    rejected_requests: number;
  };
  histograms: Record<string, HistogramState>;
  active_pipelines: number;
  queue_size: number;
  queue_by_priority: { high: number; normal: number; low: number };
  jobs_waiting: number;
  jobs_running: number;
  max_concurrent: number;
  max_queue_size: number;
  agents: AgentInfo[];
}
