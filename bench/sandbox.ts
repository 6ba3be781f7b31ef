/**
 * The sandbox: `print(1)` in Python through POST /api/execute on a host-agent with a warm pool,
 * on one without (every run creates and starts a container), and `docker run --rm` of the same
 * image from the CLI, interleaved in one run. Before each sample the engine is left to settle
 * (the warm pool refilled, the last run's container removed), so no sample pays for another's
 * background work.
 */
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import Docker from "dockerode";
import { ExecuteResult } from "../shared/src/index.ts";
import { LABEL_AGENT, LABEL_SANDBOX } from "../host-agent/src/sandbox/container-spec.ts";
import { errorKey, jsonOf, type HttpClient } from "./http-client.ts";
import { countBy, median, summarize, type Summary } from "./stats.ts";

const run = promisify(execFile);

export interface SandboxResult {
  runs: number;
  /** Client-side latency of each way, ms. */
  warm_ms: Summary;
  cold_ms: Summary;
  docker_run_ms: Summary;
  /** The host-agent's own `duration_ms` of the run (container start/attach to exit), ms. */
  warm_duration_ms: Summary;
  cold_duration_ms: Summary;
  /** Median ratios. */
  docker_run_over_warm: number;
  cold_over_warm: number;
  errors: Record<string, number>;
}

/** Null when Docker answers and has the image; otherwise why the section cannot run. */
export async function dockerUnavailable(image: string): Promise<string | null> {
  const docker = new Docker();
  try {
    await docker.ping();
  } catch (error) {
    return `no Docker engine answers (${error instanceof Error ? error.message : String(error)})`;
  }
  try {
    await docker.getImage(image).inspect();
  } catch {
    return `the image ${image} is missing (npm run sandbox:image)`;
  }
  return null;
}

async function labelled(docker: Docker, agentId: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`${LABEL_SANDBOX}=1`, `${LABEL_AGENT}=${agentId}`] } });
}

/** Waits until `warmAgent` has `warmSize` running containers and `coldAgent` none. */
async function settle(docker: Docker, warmAgent: string, warmSize: number, coldAgent: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const warm = await labelled(docker, warmAgent);
    const cold = await labelled(docker, coldAgent);
    if (warm.length === warmSize && warm.every((c) => c.State === "running") && cold.length === 0) break;
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // The engine's own clean-up after a removal (network namespace, overlay unmount) lags a little.
  await new Promise((resolve) => setTimeout(resolve, 300));
}

/** Removes sandbox containers the given host-agents left behind (only theirs, by label). */
export async function removeLeftovers(agentIds: string[]): Promise<number> {
  const docker = new Docker();
  let removed = 0;
  for (const agentId of agentIds) {
    for (const info of await labelled(docker, agentId).catch(() => [])) {
      await docker
        .getContainer(info.Id)
        .remove({ force: true })
        .then(() => (removed += 1))
        .catch(() => undefined);
    }
  }
  return removed;
}

/** The same, synchronously with the docker CLI: for a second Ctrl-C, when nothing may wait. */
export function removeLeftoversNow(agentIds: string[]): void {
  for (const agentId of agentIds) {
    try {
      const ids = execFileSync(
        "docker",
        ["ps", "-aq", "--filter", `label=${LABEL_SANDBOX}=1`, "--filter", `label=${LABEL_AGENT}=${agentId}`],
        { encoding: "utf8", timeout: 10_000 },
      )
        .split("\n")
        .filter((id) => id.trim() !== "");
      if (ids.length > 0) execFileSync("docker", ["rm", "-f", ...ids], { timeout: 20_000, stdio: "ignore" });
    } catch {
      // No engine, or nothing to remove.
    }
  }
}

export async function compareSandbox(
  http: HttpClient,
  options: {
    image: string;
    runs: number;
    warmAgent: string;
    warmSize: number;
    coldAgent: string;
    coldPool: string;
    onProgress?: (done: number) => void;
  },
): Promise<SandboxResult> {
  const docker = new Docker();
  const body = { language: "python", code: "print(1)" };
  const warm: number[] = [];
  const cold: number[] = [];
  const dockerRun: number[] = [];
  const warmDuration: number[] = [];
  const coldDuration: number[] = [];
  const errors: string[] = [];

  const viaApi = async (path: string, into: number[], durations: number[], count: boolean): Promise<void> => {
    const answer = await http.post(path, body);
    const result = ExecuteResult.safeParse(jsonOf(answer));
    if (answer.status !== 200 || !result.success || result.data.stdout !== "1\n") {
      if (count) errors.push(`${path}:${answer.status === 200 ? "bad output" : errorKey(answer)}`);
      return;
    }
    if (!count) return;
    into.push(answer.ms);
    durations.push(result.data.duration_ms);
  };
  const viaCli = async (count: boolean): Promise<void> => {
    const started = performance.now();
    try {
      const { stdout } = await run("docker", [
        "run",
        "--rm",
        "--network",
        "none",
        options.image,
        "python3",
        "-c",
        "print(1)",
      ]);
      if (stdout !== "1\n") throw new Error("bad output");
      if (count) dockerRun.push(performance.now() - started);
    } catch (error) {
      if (count) errors.push(`docker run:${error instanceof Error ? error.message.slice(0, 80) : "failed"}`);
    }
  };

  // Round 0 warms each path up (first use of the image, the engine's caches) and is not counted.
  for (let round = 0; round <= options.runs; round++) {
    const count = round > 0;
    await settle(docker, options.warmAgent, options.warmSize, options.coldAgent);
    await viaApi("/api/execute", warm, warmDuration, count);
    await settle(docker, options.warmAgent, options.warmSize, options.coldAgent);
    await viaApi(`/api/execute?pool=${options.coldPool}`, cold, coldDuration, count);
    await settle(docker, options.warmAgent, options.warmSize, options.coldAgent);
    await viaCli(count);
    if (count) options.onProgress?.(round);
  }
  return {
    runs: options.runs,
    warm_ms: summarize(warm),
    cold_ms: summarize(cold),
    docker_run_ms: summarize(dockerRun),
    warm_duration_ms: summarize(warmDuration),
    cold_duration_ms: summarize(coldDuration),
    docker_run_over_warm: Math.round((median(dockerRun) / median(warm)) * 10) / 10,
    cold_over_warm: Math.round((median(cold) / median(warm)) * 10) / 10,
    errors: countBy(errors),
  };
}
