import { createApp } from "./api/app.ts";

export { AgentLinkDO } from "./link/agent-link-do.ts";
export { RateLimiterDO } from "./api/rate-limiter-do.ts";
export { ExecutionDO } from "./execution/execution-do.ts";
export { IdempotencyDO } from "./idempotency/idempotency-do.ts";
export { PipelineDO } from "./pipeline/pipeline-do.ts";
export { SchedulerDO } from "./scheduler/scheduler-do.ts";

const app = createApp();

export default app satisfies ExportedHandler<Env>;
