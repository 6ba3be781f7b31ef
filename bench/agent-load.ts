/**
 * A host-agent with many jobs at once: `pipelines` asynchronous pipelines go to one labelled
 * host-agent whose Python agent pauses between chunks, so each job lasts seconds and they pile up
 * on it. The edge's count of jobs running on that agent (/api/status) and the agent's resident
 * memory are sampled together until every job is done.
 */
import { StatusResponse } from "../shared/src/index.ts";
import { errorKey, jsonOf, type HttpClient } from "./http-client.ts";
import { memoryOf } from "./proc.ts";
import { countBy } from "./stats.ts";

export interface AgentLoadResult {
  pipelines: number;
  /** Creation errors, by status. */
  errors: Record<string, number>;
  /** The most jobs the edge showed running on the agent at once. */
  max_jobs_running: number;
  /** The agent's resident memory at that moment, and its highest over the step, MB. */
  rss_at_max_jobs_mb: number;
  peak_rss_mb: number;
  /** Its resident memory before the step. */
  rss_before_mb: number;
  samples: number;
  wall_s: number;
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

export async function hostAgentUnderJobs(
  http: HttpClient,
  options: {
    pipelines: number;
    prompt: string;
    labels: Record<string, string>;
    agentId: string;
    pid: number;
    timeoutMs: number;
  },
): Promise<AgentLoadResult> {
  const started = performance.now();
  const rssBefore = memoryOf(options.pid)?.rss ?? 0;
  let maxJobs = 0;
  let rssAtMax = 0;
  let peakRss = rssBefore;
  let samples = 0;
  let sawJobs = false;
  let idleSamples = 0;
  let created = false;

  const creation = (async () => {
    const errors: string[] = [];
    let next = 0;
    const body = { prompt: options.prompt, async: true, metadata: { labels: options.labels } };
    const creator = async () => {
      while (next < options.pipelines) {
        next += 1;
        const answer = await http.post("/api/generate", body);
        if (answer.status !== 202) errors.push(errorKey(answer));
      }
    };
    await Promise.all(Array.from({ length: 32 }, creator));
    created = true;
    return errors;
  })();

  const deadline = started + options.timeoutMs;
  while (performance.now() < deadline) {
    const status = StatusResponse.safeParse(jsonOf(await http.get("/api/status")));
    const rss = memoryOf(options.pid)?.rss ?? 0;
    peakRss = Math.max(peakRss, rss);
    if (status.success) {
      samples += 1;
      const running = status.data.agents.find((a) => a.agent_id === options.agentId)?.running ?? 0;
      if (running > maxJobs) {
        maxJobs = running;
        rssAtMax = rss;
      }
      if (running > 0) sawJobs = true;
      idleSamples = running === 0 && created && sawJobs ? idleSamples + 1 : 0;
      if (idleSamples >= 3) break;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const errors = await creation;
  return {
    pipelines: options.pipelines,
    errors: countBy(errors),
    max_jobs_running: maxJobs,
    rss_at_max_jobs_mb: mb(rssAtMax),
    peak_rss_mb: mb(peakRss),
    rss_before_mb: mb(rssBefore),
    samples,
    wall_s: Math.round((performance.now() - started) / 100) / 10,
  };
}
