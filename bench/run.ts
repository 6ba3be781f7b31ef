/**
 * `npm run bench`: starts the whole stack (the Worker in workerd, the reference Python agent with
 * its offline provider and no delay, host-agents), warms it up, and measures DESIGN §11's figures
 * in one run. Prints progress, then tables; writes bench/results/latest.json.
 *
 *   npm run bench                      the full run (about 6 minutes on 2 cores)
 *   ATOMIC_BENCH_QUICK=1 npm run bench a smoke run of every section with small counts
 *   npm run bench -- --baseline REF    the bench of commit REF first (in its own worktree), then
 *                                      this one, and the speed targets side by side
 *
 * Every process it starts is stopped at the end, on error, and on Ctrl-C (twice: at once).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../test/support/edge.ts";
import { hostAgentUnderJobs } from "./agent-load.ts";
import { checkOutBaseline, runBaselineBench } from "./baseline.ts";
import { commandLine } from "./command-line.ts";
import { benchConfig } from "./config.ts";
import { edgeErrorCounts, filterEdgeErrors } from "./console-filter.ts";
import { fanOut, FANOUT_LABEL, type FanOutLevel, type FanOutVia } from "./fanout.ts";
import { fanOutBaseline, type FanOutBaselineResult } from "./fanout-baseline.ts";
import { sequentialGenerates, sequentialGets, sequentialIpc } from "./latency.ts";
import { machineInfo } from "./machine.ts";
import { MetricsResponse } from "../shared/src/index.ts";
import { HttpClient, jsonOf } from "./http-client.ts";
import { Monitor, SELF, type SectionUsage, type Watched } from "./monitor.ts";
import { memoryOf } from "./proc.ts";
import { ms, progress } from "./progress.ts";
import { judge, ok, type BenchResults, type MemoryFigures, type Outcome } from "./results.ts";
import { compareSandbox, dockerUnavailable, removeLeftovers, removeLeftoversNow } from "./sandbox.ts";
import { compareVerification } from "./verification.ts";
import { Stack } from "./stack.ts";
import { StopSignals } from "./stop-signals.ts";
import { ComparableResults, speedTargets } from "./speed-targets.ts";
import { round, roundSummary } from "./stats.ts";
import { concurrentStreams } from "./streams.ts";
import { cpuTable, figuresTable, renderTable, verdictTable } from "./table.ts";
import { closedLoop, type ThroughputResult } from "./throughput.ts";

const IMAGE = process.env["ATOMIC_SANDBOX_IMAGE"] ?? "atomic-sandbox:latest";
// Agent ids carry this run's pid: sandbox containers are labelled with them, and a clean-up must
// never touch another run's.
const MAIN = `bench-main-${process.pid}`;
const COLD = `bench-cold-${process.pid}`;
const COLD_POOL = "bench-cold";
/** The verification section's running container (bench/verification-reference.ts). */
const REFERENCE = `bench-reference-${process.pid}`;
const FANOUT = `bench-fanout-${process.pid}`;
const WARM_SIZE = 2;
const scaleName = (i: number) => `bench-scale-${i}-${process.pid}`;
const MAIN_PYTHON = "python main";
const FANOUT_PYTHON = "python fanout";
const LOAD = `bench-load-${process.pid}`;
const LOAD_PYTHON = "python slow";
const LOAD_LABEL = { bench: "load" };
const WORKERD_RUNTIME = "workerd (Worker + Durable Objects)";
const WORKERD_PROXY = "workerd (wrangler dev proxy)";
/** How a process is named in the results: its role, without this run's pid. */
const displayName = (p: { kind: string; name: string }) =>
  p.kind === "python" ? p.name : `host-agent ${p.name.replace(`-${process.pid}`, "")}`;
const MAIN_DISPLAY = "host-agent bench-main";

const USAGE = `npm run bench [-- --baseline REF]: the stack's figures in one run (bench/results/latest.json)

  --baseline REF  first run the bench of commit REF (checked out in .atomic/bench-baseline/), then
                  this one, and report each speed target against it: met or not met
  --help          this text

ATOMIC_BENCH_QUICK=1 makes every section small (a smoke run, for both benches).`;

const options = commandLine({ baseline: { type: "string" } }, USAGE);

const config = benchConfig();
// wrangler's debug log file would take every line workerd logs; the counts are kept instead.
process.env["WRANGLER_WRITE_LOGS"] = "false";
filterEdgeErrors();

const edgeVars: Record<string, string> = {
  ATOMIC_LOG_LEVEL: "ERROR",
  ATOMIC_MAX_CONCURRENT: String(config.edgeMaxConcurrent),
  ATOMIC_MAX_QUEUE_SIZE: String(config.edgeMaxQueue),
  // The fan-out pipeline's job waits at the scheduler while its subscribers connect.
  ATOMIC_AGENT_WAIT_MS: "120000",
  ATOMIC_MAX_SUBSCRIBERS: "4000",
};
const agentEnv = (socket: string): Record<string, string> => ({
  ATOMIC_IPC_SOCKET: socket,
  ATOMIC_THREADS: String(config.threads),
  ATOMIC_IPC_POOL_SIZE: String(config.ipcPoolSize),
});

let stack: Stack | null = null;
let monitor: Monitor | null = null;

async function cleanUp(): Promise<void> {
  monitor?.stop();
  await stack?.stopAll();
  stack = null;
  const removed = await removeLeftovers([MAIN, COLD, REFERENCE]).catch(() => 0);
  if (removed > 0) progress(`removed ${removed} sandbox container(s) left behind`);
}

const signals = new StopSignals(cleanUp, () => {
  stack?.killNow();
  removeLeftoversNow([MAIN, COLD, REFERENCE]);
});

/** The runtime workerd's CPU time in a section, divided by the pipelines completed in it. */
function workerdCpuMsPerPipeline(usage: SectionUsage | undefined, pipelines: number): number {
  const seconds = usage?.cpu_s[WORKERD_RUNTIME];
  return seconds === undefined || pipelines === 0 ? Number.NaN : (seconds * 1000) / pipelines;
}

/** Runs a section; a failure is recorded and the run goes on with the next. */
async function section<T>(name: string, body: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return await body();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    progress(`${name} FAILED: ${message}`);
    return { failed: message.slice(0, 500) };
  }
}

async function main(): Promise<void> {
  const machine = await machineInfo();
  progress(
    `${config.quick ? "QUICK run (ATOMIC_BENCH_QUICK=1)" : "full run"} on ${machine.cpus} CPUs, ${machine.memory_mb} MB; node ${machine.node}, python ${machine.python ?? "?"}, docker ${machine.docker ?? "none"}`,
  );
  const dockerReason = await dockerUnavailable(IMAGE);
  if (dockerReason) progress(`sandbox section will be skipped: ${dockerReason}`);

  let baseline: { ref: string; commit: string; results: ComparableResults } | null = null;
  if (options.baseline !== undefined) {
    const checkedOut = checkOutBaseline(options.baseline, progress);
    progress(`the baseline's bench (${options.baseline}, ${checkedOut.commit.slice(0, 12)}) runs first`);
    const parsed = ComparableResults.safeParse(await runBaselineBench(checkedOut, config.quick));
    if (!parsed.success) throw new Error(`the baseline's results do not read as a bench's: ${parsed.error.message}`);
    baseline = { ref: checkedOut.ref, commit: checkedOut.commit, results: parsed.data };
    progress("the baseline's bench is done; now this commit's");
  }
  // This commit's own run, without the baseline's before it.
  const runStarted = performance.now();

  progress(
    "building the host-agent (npm run build:agent), starting the edge (workerd via wrangler), the Python agent and the host-agent",
  );
  stack = await Stack.start(edgeVars);
  signals.keepOnlyOurs();
  const s = stack;
  const workerd = await s.workerd();
  const mainPython = await s.startPython(MAIN_PYTHON);
  const mainEnv = {
    ...agentEnv(mainPython.socket),
    ATOMIC_SANDBOX_WARM: dockerReason ? "0" : String(WARM_SIZE),
    ...(dockerReason ? { ATOMIC_SANDBOX: "off" } : {}),
  };
  s.startHostAgent(MAIN, mainEnv);
  await s.waitForAgent(
    MAIN,
    "default",
    (a) => a.llm === "healthy" && (dockerReason !== null || a.docker === "available"),
  );
  progress(
    `stack up at ${s.edge.url}: workerd runtime pid ${workerd.runtime?.pid ?? "not found"} (port ${workerd.runtime?.port ?? "?"}), wrangler's proxy pid ${workerd.proxy?.pid ?? "none"}`,
  );

  const watched = (): Watched[] => [
    ...(workerd.runtime === null ? [] : [{ name: WORKERD_RUNTIME, pid: workerd.runtime.pid }]),
    ...(workerd.proxy === null ? [] : [{ name: WORKERD_PROXY, pid: workerd.proxy.pid }]),
    ...s.processes().map((p) => ({ name: displayName(p), pid: p.pid })),
  ];
  const idleRss: Record<string, number> = {};
  for (const { name, pid } of watched()) {
    const memory = memoryOf(pid);
    if (memory) idleRss[name] = round(memory.rss / 1024 / 1024);
  }
  // Straight to the runtime's own port: the same Worker without wrangler's dev proxy in front.
  const direct = workerd.runtime?.port ? new HttpClient(`http://127.0.0.1:${workerd.runtime.port}`) : null;
  monitor = new Monitor(watched, s.http, WORKERD_RUNTIME);
  const m = monitor;
  m.start();
  const sections: SectionUsage[] = [];
  const measure = async <T>(name: string, watchEdge: boolean, body: () => Promise<T>): Promise<Outcome<T>> => {
    const end = m.begin(name, watchEdge);
    const outcome = await section(name, body);
    sections.push(end());
    return outcome;
  };
  const stopProcess = async (name: string) => {
    m.sample();
    await s.stop(name);
  };

  // ------------------------------------------------------------------ warm-up
  progress(`warm-up: ${config.warmupRequests} pipelines, 4 at a time`);
  for (let i = 0; i < config.warmupRequests; i += 4) {
    await Promise.all([0, 1, 2, 3].map(() => s.http.post("/api/generate", { prompt: config.prompt })));
  }
  for (let i = 0; i < 20; i++) await s.http.get("/health");

  // ------------------------------------------------------------------ floor and sequential latency
  progress(`floor: ${config.floorRequests} × GET /health, one after another`);
  const floor = await measure("floor: GET /health", false, async () => {
    const result = await sequentialGets(s.http, "/health", config.floorRequests);
    progress(
      `  /health p50 ${ms(result.latency_ms.p50)}, p90 ${ms(result.latency_ms.p90)}, p99 ${ms(result.latency_ms.p99)}`,
    );
    const bypass = direct ? await sequentialGets(direct, "/health", config.floorRequests) : null;
    if (bypass) {
      progress(
        `  /health without wrangler's proxy p50 ${ms(bypass.latency_ms.p50)}, p90 ${ms(bypass.latency_ms.p90)}, p99 ${ms(bypass.latency_ms.p99)}`,
      );
    }
    // A route that touches no Durable Object: the difference to /health is one Worker → DO round trip.
    const noDo = await sequentialGets(s.http, "/bench-no-such-route", config.floorRequests, 404);
    progress(`  a 404 (no Durable Object) p50 ${ms(noDo.latency_ms.p50)}, p99 ${ms(noDo.latency_ms.p99)}`);
    return { requests: config.floorRequests, ...result, without_dev_proxy: bypass, no_durable_object: noDo };
  });
  progress(`latency: ${config.generateRequests} × POST /api/generate, one after another`);
  const generate = await measure("latency: POST /api/generate", false, async () => {
    const result = await sequentialGenerates(s.http, config.prompt, config.generateRequests);
    const llm = await sequentialIpc(mainPython.socket, config.prompt, Math.min(100, config.generateRequests));
    const bypass = direct
      ? await sequentialGenerates(direct, config.prompt, Math.ceil(config.generateRequests / 2))
      : null;
    const floorP50 = ok(floor)?.latency_ms.p50 ?? Number.NaN;
    progress(
      `  generate p50 ${ms(result.latency_ms.p50)}, p90 ${ms(result.latency_ms.p90)}, p99 ${ms(result.latency_ms.p99)}; LLM side alone p50 ${ms(llm.latency_ms.p50)}; without wrangler's proxy p50 ${ms(bypass?.latency_ms.p50 ?? Number.NaN)}`,
    );
    return {
      requests: config.generateRequests,
      ...result,
      ratio_p50_to_floor: round(result.latency_ms.p50 / floorP50),
      overhead_p50_ms: round(result.latency_ms.p50 - floorP50),
      overhead_p99_ms: round(result.latency_ms.p99 - floorP50),
      llm_side: llm,
      without_dev_proxy: bypass ? { latency_ms: bypass.latency_ms, errors: bypass.errors } : null,
    };
  });

  // ------------------------------------------------------------------ throughput
  const throughput = await section("throughput", async () => {
    const levels: Array<ThroughputResult & { workerd_cpu_ms_per_pipeline: number }> = [];
    for (const concurrency of config.throughputLevels) {
      progress(
        `throughput: concurrency ${concurrency}, ${config.throughputRampS} s ramp + ${config.throughputWindowS} s counted`,
      );
      const level = await measure(`throughput c=${concurrency}`, true, () =>
        closedLoop(s.http, {
          concurrency,
          rampS: config.throughputRampS,
          windowS: config.throughputWindowS,
          prompt: config.prompt,
        }),
      );
      const result = ok(level);
      if (!result) throw new Error(`concurrency ${concurrency}: ${JSON.stringify(level)}`);
      const cpuMs = workerdCpuMsPerPipeline(sections.at(-1), result.completed_total);
      progress(
        `  ${result.pipelines_per_min} pipelines/min, ${result.completed} completed, errors ${JSON.stringify(result.errors)}, p50 ${ms(result.latency_ms.p50)}; workerd ${ms(cpuMs)} CPU per pipeline`,
      );
      levels.push({ ...result, workerd_cpu_ms_per_pipeline: round(cpuMs) });
    }
    return levels;
  });

  // ------------------------------------------------------------------ concurrent WebSocket streams
  progress(`streams: ${config.streams} WebSocket pipelines (/ws/stream) opened at once`);
  const streams = await measure(`streams: ${config.streams} WebSockets`, true, async () => {
    let shown = 0;
    const result = await concurrentStreams(s.edge.wsUrl, {
      count: config.streams,
      prompt: config.prompt,
      timeoutMs: 240_000,
      onProgress: (done) => {
        if (done - shown >= Math.max(1, Math.floor(config.streams / 4))) {
          shown = done;
          progress(`  ${done}/${config.streams} sockets done`);
        }
      },
    });
    progress(
      `  ${result.completed}/${result.sockets} completed; first token p50 ${ms(result.first_token_ms.p50)}, p99 ${ms(result.first_token_ms.p99)}; last token p50 ${ms(result.last_token_ms.p50)}, p99 ${ms(result.last_token_ms.p99)}`,
    );
    return result;
  });

  // ------------------------------------------------------------------ fan-out
  const fan = await section("fan-out", async () => {
    const slowPython = await s.startPython(FANOUT_PYTHON, {
      ATOMIC_LLM_OFFLINE_DELAY_MS: String(config.fanOutDelayMs),
    });
    const labels = Object.entries(FANOUT_LABEL)
      .map(([key, value]) => `${key}=${value}`)
      .join(",");
    // Every level through the edge's URL; the largest once more straight to the runtime's port,
    // which shows what wrangler's dev proxy (every frame passes through it) adds.
    const largest = Math.max(...config.fanOutLevels);
    const runs: Array<{ subscribers: number; via: FanOutVia; wsUrl: string }> = config.fanOutLevels.map(
      (subscribers) => ({ subscribers, via: "wrangler dev proxy", wsUrl: s.edge.wsUrl }),
    );
    if (workerd.runtime?.port) {
      runs.push({ subscribers: largest, via: "runtime directly", wsUrl: `ws://127.0.0.1:${workerd.runtime.port}` });
    }
    const levels: FanOutLevel[] = [];
    try {
      for (const { subscribers, via, wsUrl } of runs) {
        progress(
          `fan-out: ${subscribers} subscribers on one pipeline (via the ${via}), chunks ${config.fanOutDelayMs} ms apart from a second Python agent`,
        );
        const name = via === "runtime directly" ? `fan-out ${subscribers} direct` : `fan-out ${subscribers}`;
        const level = await measure(name, false, () =>
          fanOut(s.http, wsUrl, {
            subscribers,
            prompt: config.prompt,
            timeoutMs: 120_000,
            startProducer: async () => {
              s.startHostAgent(FANOUT, { ...agentEnv(slowPython.socket), ATOMIC_AGENT_LABELS: labels });
              await s.waitForAgent(FANOUT);
            },
          }),
        );
        await stopProcess(FANOUT);
        const result = ok(level);
        if (!result) throw new Error(`${subscribers} subscribers: ${JSON.stringify(level)}`);
        progress(
          `  ${result.got_every_event}/${subscribers} got every event (${result.live_events} live); delivery p50 ${ms(result.delivery_ms.p50)}, p99 ${ms(result.delivery_ms.p99)}`,
        );
        let clientFloor: FanOutBaselineResult | null = null;
        if (via === "wrangler dev proxy") {
          // The same client against a bare ws broadcast server, as many frames as far apart.
          const floorOutcome = await section(`fan-out ${subscribers} client floor`, () =>
            fanOutBaseline({
              subscribers,
              events: Math.max(1, result.live_events - 1),
              intervalMs: config.fanOutDelayMs,
              timeoutMs: 60_000,
            }),
          );
          clientFloor = ok(floorOutcome);
          if (clientFloor) {
            progress(
              `  client floor (bare ws server): delivery p50 ${ms(clientFloor.delivery_ms.p50)}, p99 ${ms(clientFloor.delivery_ms.p99)}`,
            );
          }
        }
        levels.push({ ...result, via, client_floor: clientFloor });
      }
    } finally {
      await stopProcess(FANOUT);
      await stopProcess(FANOUT_PYTHON);
    }
    return levels;
  });

  // ------------------------------------------------------------------ a host-agent with many jobs at once
  progress(
    `memory: ${config.agentLoadPipelines} pipelines at once on one host-agent whose Python agent pauses ${config.agentLoadDelayMs} ms between chunks`,
  );
  const agentLoad = await measure("memory: host-agent with many jobs", false, async () => {
    const slow = await s.startPython(LOAD_PYTHON, { ATOMIC_LLM_OFFLINE_DELAY_MS: String(config.agentLoadDelayMs) });
    const agent = s.startHostAgent(LOAD, { ...agentEnv(slow.socket), ATOMIC_AGENT_LABELS: "bench=load" });
    try {
      await s.waitForAgent(LOAD);
      const result = await hostAgentUnderJobs(s.http, {
        pipelines: config.agentLoadPipelines,
        prompt: config.prompt,
        labels: LOAD_LABEL,
        agentId: LOAD,
        pid: agent.pid,
        timeoutMs: 180_000,
      });
      progress(
        `  up to ${result.max_jobs_running} jobs at once on it: ${result.rss_at_max_jobs_mb} MB then, ${result.peak_rss_mb} MB at most (${result.rss_before_mb} MB before)`,
      );
      return result;
    } finally {
      await stopProcess(LOAD);
      await stopProcess(LOAD_PYTHON);
    }
  });

  // ------------------------------------------------------------------ sandbox
  const sandbox = dockerReason
    ? { skipped: dockerReason }
    : await measure("sandbox", false, async () => {
        progress(`sandbox: ${config.sandboxRuns} × print(1) each: warm pool, no pool, docker run --rm (interleaved)`);
        s.startHostAgent(COLD, { ...agentEnv(mainPython.socket), ATOMIC_POOL: COLD_POOL, ATOMIC_SANDBOX_WARM: "0" });
        try {
          await s.waitForAgent(COLD, COLD_POOL, (a) => a.docker === "available");
          const result = await compareSandbox(s.http, {
            image: IMAGE,
            runs: config.sandboxRuns,
            warmAgent: MAIN,
            warmSize: WARM_SIZE,
            coldAgent: COLD,
            coldPool: COLD_POOL,
            onProgress: (done) => {
              if (done % 5 === 0 || done === config.sandboxRuns) progress(`  ${done}/${config.sandboxRuns} rounds`);
            },
          });
          progress(
            `  warm p50 ${ms(result.warm_ms.p50)}, cold p50 ${ms(result.cold_ms.p50)}, docker run p50 ${ms(result.docker_run_ms.p50)}; docker run / warm ${result.docker_run_over_warm}×`,
          );
          return result;
        } finally {
          await stopProcess(COLD);
        }
      });

  // ------------------------------------------------------------------ verification
  const verification = dockerReason
    ? { skipped: dockerReason }
    : await measure("verification", false, async () => {
        const prompt = "Write a Python function fibonacci(n)";
        progress(`verification: ${config.verificationRuns} × "${prompt}" without and with verify: true (interleaved)`);
        const result = await compareVerification(s.http, {
          prompt,
          language: "python",
          runs: config.verificationRuns,
          reference: { image: IMAGE, agentId: REFERENCE },
          onProgress: (done) => {
            if (done % 5 === 0 || done === config.verificationRuns)
              progress(`  ${done}/${config.verificationRuns} pairs`);
          },
        });
        progress(
          `  p50 ${ms(result.unverified_ms.p50)} without, ${ms(result.verified_ms.p50)} with verify (+${ms(result.added_p50_ms)}); test round p50 ${ms(result.test_round_ms.p50)}, the same in a running container ${ms(result.in_container_ms.p50)}`,
        );
        return result;
      });

  // ------------------------------------------------------------------ scale-out
  const scaleOut = await section("scale-out", async () => {
    const levels: Array<ThroughputResult & { host_agents: number; workerd_cpu_ms_per_pipeline: number }> = [];
    let running = 1;
    for (const agents of config.scaleOutAgents) {
      while (running < agents) {
        const python = await s.startPython(`python scale-${running}`);
        s.startHostAgent(scaleName(running), agentEnv(python.socket));
        await s.waitForAgent(scaleName(running));
        running += 1;
      }
      progress(
        `scale-out: ${agents} host-agent(s), each with its own Python agent, concurrency ${config.scaleOutConcurrency}`,
      );
      const level = await measure(`scale-out ${agents} agent(s)`, true, () =>
        closedLoop(s.http, {
          concurrency: config.scaleOutConcurrency,
          rampS: config.throughputRampS,
          windowS: config.throughputWindowS,
          prompt: config.prompt,
        }),
      );
      const result = ok(level);
      if (!result) throw new Error(`${agents} agents: ${JSON.stringify(level)}`);
      const cpuMs = workerdCpuMsPerPipeline(sections.at(-1), result.completed_total);
      progress(
        `  ${result.pipelines_per_min} pipelines/min, errors ${JSON.stringify(result.errors)}; workerd ${ms(cpuMs)} CPU per pipeline`,
      );
      levels.push({ host_agents: agents, ...result, workerd_cpu_ms_per_pipeline: round(cpuMs) });
    }
    return levels;
  });

  // ------------------------------------------------------------------ memory, then stop
  m.sample();
  const peaks = m.peaks();
  // Only sections where host-agent main was the one agent taking the default pool's jobs.
  const heaviest = sections
    .filter((usage) => /^(throughput|streams)/.test(usage.name) && usage.max_jobs_running !== null)
    .reduce<SectionUsage | null>(
      (top, usage) => (top === null || (usage.max_jobs_running ?? 0) > (top.max_jobs_running ?? 0) ? usage : top),
      null,
    );
  const peakOf = (name: string) => peaks.find((p) => p.name === name)?.vm_hwm_mb ?? 0;
  // wrangler's dev proxy is left out: a deployment has no such process.
  const stackNames = [WORKERD_RUNTIME, MAIN_DISPLAY, MAIN_PYTHON];
  const finalMetrics = MetricsResponse.safeParse(jsonOf(await s.http.get("/api/metrics")));
  const pipelinesCreated = finalMetrics.success ? finalMetrics.data.total_requests : null;
  const runtimeGrowth = (peakOf(WORKERD_RUNTIME) - (idleRss[WORKERD_RUNTIME] ?? 0)) * 1024;
  const stateUsage = s.stateUsage();
  const memory: MemoryFigures = {
    processes: peaks,
    host_agent_at_load: heaviest
      ? {
          section: heaviest.name,
          max_jobs_running: heaviest.max_jobs_running ?? 0,
          peak_rss_mb: heaviest.peak_rss_mb[MAIN_DISPLAY] ?? 0,
        }
      : null,
    host_agent_under_jobs: ok(agentLoad),
    idle_rss_mb: idleRss,
    stack_peak_sum_mb: round(stackNames.reduce((sum, name) => sum + peakOf(name), 0)),
    pipelines_created: pipelinesCreated,
    workerd_growth_kb_per_pipeline: pipelinesCreated ? round(runtimeGrowth / pipelinesCreated) : null,
    edge_state_files: stateUsage.files,
    edge_state_mb: round(stateUsage.bytes / 1024 / 1024),
  };
  progress("stopping the stack");
  direct?.close();
  await cleanUp();

  const roundAll = <T>(value: T): T =>
    JSON.parse(
      JSON.stringify(value, (_key, v: unknown) => {
        if (typeof v === "object" && v !== null && "p50" in v && "p99" in v && "n" in v)
          return roundSummary(v as Parameters<typeof roundSummary>[0]);
        return v;
      }),
    ) as T;
  const partial: Omit<BenchResults, "verdicts"> = roundAll({
    schema: "atomic-bench/1" as const,
    quick: config.quick,
    units: {
      _ms: "milliseconds",
      _s: "seconds",
      _mb: "mebibytes (MiB) of resident memory",
      _per_min: "pipelines completed per minute",
      cores: "CPU seconds used per wall second (1.0 = one core busy)",
      Summary: "{n, min, p50, p90, p99, max, mean}: nearest-rank percentiles",
    },
    machine,
    settings: {
      edge_vars: edgeVars,
      host_agent_env: { ...mainEnv, ATOMIC_IPC_SOCKET: "(temp)" },
      prompt: config.prompt,
    },
    duration_s: Math.round((performance.now() - runStarted) / 1000),
    floor,
    generate,
    throughput,
    streams,
    fan_out: fan,
    sandbox,
    verification,
    scale_out: scaleOut,
    memory,
    sections,
    edge_runtime_errors: edgeErrorCounts(),
  });
  const results: BenchResults = {
    ...partial,
    verdicts: judge(partial),
    ...(baseline && {
      against_baseline: {
        ref: baseline.ref,
        commit: baseline.commit,
        targets: speedTargets(baseline.results, partial),
      },
    }),
  };

  const dir = join(ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, config.quick ? "latest-quick.json" : "latest.json");
  writeFileSync(file, JSON.stringify(results, null, 2) + "\n");

  const print = (text: string) => process.stdout.write(`${text}\n`);
  print("\n== Figures\n");
  print(figuresTable(results));
  print("\n== Against the seed's promises and DESIGN §11\n");
  print(verdictTable(results));
  print("\n== CPU: cores used on average per section (of the machine's " + machine.cpus + ")\n");
  print(
    "process columns: cores used (its busiest thread, in cores); psi: share of the time some task waited for a CPU / for I/O;\n" +
      "workerd thread R/D/S: share of 10 ms samples the runtime's busiest thread was running / waiting for disk / sleeping\n",
  );
  print(cpuTable(results, [WORKERD_RUNTIME, WORKERD_PROXY, MAIN_DISPLAY, MAIN_PYTHON, SELF]));
  const edgeErrors = Object.entries(results.edge_runtime_errors);
  if (edgeErrors.length > 0) {
    print("\n== Errors workerd logged during the run\n");
    for (const [message, count] of edgeErrors) print(`${String(count).padStart(7)}  ${message}`);
  }
  if (results.against_baseline !== undefined) {
    const { ref, commit, targets: rows } = results.against_baseline;
    print(`\n== Speed targets against the baseline ${ref} (${commit.slice(0, 12)}), run just before in this session\n`);
    print(
      renderTable(
        ["target", "baseline", "this commit", "goal", ""],
        rows.map((row) => [
          row.target,
          row.baseline,
          row.current,
          row.goal,
          row.met === null ? "not measured" : row.met ? "met" : "NOT MET",
        ]),
      ),
    );
  }
  print(`\nwritten: ${file} (${results.duration_s} s in all)`);
}

main()
  .catch(async (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
    await cleanUp().catch((cleanupError: unknown) => console.error(cleanupError));
  })
  .finally(() => {
    if (!signals.stopping) process.exit(process.exitCode ?? 0);
  });
