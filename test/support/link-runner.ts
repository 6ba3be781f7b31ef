import type { JobKind } from "../../shared/src/index.ts";
import { JobRunner, type JobHandler } from "../../host-agent/src/jobs/job-runner.ts";
import { LinkClient, type LinkOptions } from "../../host-agent/src/link/link-client.ts";
import { createLogger } from "../../host-agent/src/log.ts";
import { HEALTHY } from "./fake-agent.ts";

/**
 * The host-agent's own link client and job runner in the test's process, wired as the host-agent
 * wires them, running `generate` for `llm.generate` jobs. Not started: the caller starts the link
 * and closes it.
 */
export function linkRunner(
  edge: { url: string; token: string },
  generate: JobHandler,
  options: { agentId: string; capacity: number } & Pick<LinkOptions, "backoff" | "outbox">,
): { link: LinkClient; runner: JobRunner } {
  const logger = createLogger("silent");
  const handlers: Partial<Record<JobKind, JobHandler>> = { "llm.generate": generate };
  const runner = new JobRunner({ capacity: options.capacity, handlers, logger, tokenFlushMs: 0 });
  const { agentId, capacity, ...rest } = options;
  const link = new LinkClient({
    edgeUrl: edge.url,
    token: edge.token,
    agentId,
    pool: "default",
    labels: {},
    capacity,
    kinds: ["llm.generate"],
    version: "test",
    logger,
    health: () => HEALTHY,
    running: () => runner.running(),
    onAssign: (job) => runner.assign(job),
    onCancel: (cancel) => runner.cancel(cancel.job_id, cancel.attempt, cancel.reason),
    onFailed: (failed) => runner.abandon(failed.job_id, failed.attempt, failed.error),
    ...rest,
  });
  runner.attach(link);
  return { link, runner };
}
