/**
 * How much each section does: the full run (about 6 minutes on 2 cores) or, with
 * ATOMIC_BENCH_QUICK=1, a smoke run of every section with small counts (about 1.5 minutes).
 */
export interface BenchConfig {
  quick: boolean;
  warmupRequests: number;
  floorRequests: number;
  generateRequests: number;
  prompt: string;
  throughputLevels: number[];
  /** Seconds of load before the counting window opens (the level ramps up). */
  throughputRampS: number;
  /** Seconds the counting window stays open. */
  throughputWindowS: number;
  streams: number;
  fanOutLevels: number[];
  /** Pause between chunks of the second Python agent, so tokens flow over time. */
  fanOutDelayMs: number;
  /** Pipelines sent at once to one host-agent whose Python agent pauses `agentLoadDelayMs` between chunks. */
  agentLoadPipelines: number;
  agentLoadDelayMs: number;
  sandboxRuns: number;
  /** Pairs of pipelines (one without, one with `verify: true`) in the verification section. */
  verificationRuns: number;
  scaleOutAgents: number[];
  scaleOutConcurrency: number;
  /** Edge settings: room for every section's load at once. */
  edgeMaxConcurrent: number;
  edgeMaxQueue: number;
  /** Host-agent settings. */
  threads: number;
  ipcPoolSize: number;
}

export function benchConfig(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const quick = env["ATOMIC_BENCH_QUICK"] === "1" || env["ATOMIC_BENCH_QUICK"] === "true";
  const full: BenchConfig = {
    quick,
    warmupRequests: 50,
    floorRequests: 200,
    generateRequests: 200,
    prompt: "Hello World in Python",
    throughputLevels: [1, 16, 64, 256],
    throughputRampS: 3,
    throughputWindowS: 15,
    streams: 1000,
    fanOutLevels: [100, 1000],
    fanOutDelayMs: 20,
    agentLoadPipelines: 200,
    agentLoadDelayMs: 400,
    sandboxRuns: 20,
    verificationRuns: 15,
    scaleOutAgents: [1, 2, 4],
    scaleOutConcurrency: 64,
    edgeMaxConcurrent: 2000,
    edgeMaxQueue: 20000,
    threads: 1024,
    ipcPoolSize: 8,
  };
  if (!quick) return full;
  return {
    ...full,
    warmupRequests: 10,
    floorRequests: 30,
    generateRequests: 20,
    throughputRampS: 1,
    throughputWindowS: 3,
    streams: 50,
    fanOutLevels: [10, 50],
    agentLoadPipelines: 40,
    sandboxRuns: 3,
    verificationRuns: 3,
  };
}
