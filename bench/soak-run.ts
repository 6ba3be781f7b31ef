/**
 * A soak: the whole stack (the Worker in workerd behind wrangler's dev proxy, the reference Python
 * agent with its offline provider, one host-agent as it ships) takes `pipelines` synchronous
 * `POST /api/generate` requests from `concurrency` clients, then idles. Every `sampleEverySeconds`
 * it samples each process's memory and open descriptors and the edge's state on disk; it keeps
 * four checkpoints: after start, after the warm-up (the first `warmup` answers), at the end of the
 * load and at the end of the idle period (by which time retention has deleted every pipeline).
 * Used by `npm run soak` (bench/soak.ts) and by the CI-sized soak test (test/soak/).
 */
import { loadavg } from "node:os";
import { errorKey, jsonOf } from "./http-client.ts";
import { Inspector } from "./inspector.ts";
import { allocatorOf, type AllocatorSample } from "./soak-allocator.ts";
import { collectEveryIsolate, type IsolateHeap } from "./soak-isolates.ts";
import { cpuSeconds, machineCpuSeconds } from "./proc.ts";
import { fdKinds, sampleDisk, sampleProcess, type DiskSample, type ProcessSample } from "./soak-sampler.ts";
import { Stack } from "./stack.ts";
import { pruneEmptyDatabases } from "../scripts/prune-empty-databases.ts";
import { countBy } from "./stats.ts";
import { freePort } from "../test/support/edge.ts";

export interface SoakOptions {
  pipelines: number;
  concurrency: number;
  retentionHours: number;
  idleSeconds: number;
  /** Stop sending after this many minutes even if fewer than `pipelines` were sent (0: no limit). */
  maxLoadMinutes: number;
  /** Answers after which the post-warm-up level is taken. */
  warmup: number;
  sampleEverySeconds: number;
  /** Run the host-agent with its Docker sandbox (off: generation only, as the offline provider needs). */
  sandbox: boolean;
  /** Attach to workerd's inspector and read the Worker isolate's V8 heap at every sample. */
  heap: boolean;
  /** Read workerd's allocator (tcmalloc) with gdb at each checkpoint, and once more after asking it to release. */
  allocator: boolean;
  prompt: string;
  onProgress?: (line: string) => void;
  /** Called once the stack is up (e.g. to install signal handlers that stop it). */
  onStack?: (stack: Stack) => void;
}

export const SOAK_DEFAULTS: Omit<SoakOptions, "onProgress" | "onStack"> = {
  pipelines: 2000,
  concurrency: 32,
  retentionHours: 0.01,
  idleSeconds: 90,
  maxLoadMinutes: 0,
  warmup: 1000,
  sampleEverySeconds: 5,
  sandbox: false,
  heap: false,
  allocator: false,
  prompt: "Hello World in Python",
};

export const PROCESS_NAMES = [
  "workerd (Worker + Durable Objects)",
  "workerd (wrangler's dev proxy)",
  "node (wrangler + soak client)",
  "host-agent",
  "Python agent",
] as const;
export type ProcessName = (typeof PROCESS_NAMES)[number];
export const WORKERD: ProcessName = "workerd (Worker + Durable Objects)";

export interface HeapSample {
  /** V8 heap of the Worker's isolate (every Durable Object of the script shares it), MB. */
  used_mb: number;
  total_mb: number;
}

export interface Sample {
  t_s: number;
  completed: number;
  errors: number;
  processes: Partial<Record<ProcessName, ProcessSample>>;
  disk: DiskSample;
  heap: HeapSample | null;
  /** With `allocator`: workerd's tcmalloc, read every 30 s of the idle period. */
  allocator?: AllocatorSample | null;
}

/** How often the idle period reads workerd's allocator (with `allocator`). */
const IDLE_ALLOCATOR_EVERY_S = 30;
const INSPECTOR_TIMEOUT_MS = 5000;

export interface Checkpoint extends Sample {
  name: "start" | "warm" | "end" | "idle" | "idle, every isolate collected";
  /** workerd's open descriptors by what they point at. */
  workerd_fds: Record<string, number>;
  /**
   * The Worker isolate's heap right after a full collection: with `heap`, on the last checkpoint
   * only. The collection is a heap snapshot, whose buffers workerd's allocator keeps (~130 MB), so
   * no checkpoint whose memory is compared comes after one.
   */
  heap_after_gc: HeapSample | null;
  /** With `heap`, on the last checkpoint: every other isolate's heap after a full collection. */
  isolates?: IsolateHeap[];
  /** What workerd's tcmalloc holds (only with `allocator`). */
  allocator: AllocatorSample | null;
}

export interface SoakResult {
  /**
   * With `allocator`, after the idle period: tcmalloc asked to release every free page
   * (MallocExtension::ReleaseMemoryToSystem), and workerd's RSS right after.
   */
  after_release: { allocator: AllocatorSample | null; workerd: ProcessSample | null } | null;
  options: Omit<SoakOptions, "onProgress" | "onStack">;
  started_at: string;
  finished_at: string;
  completed: number;
  errors: Record<string, number>;
  error_count: number;
  load_s: number;
  pipelines_per_min: number;
  checkpoints: Checkpoint[];
  samples: Sample[];
  disk_peak: DiskSample;
  /**
   * The edge's state after the stack stopped and the empty databases of deleted objects were
   * removed, as `npm start` does before the edge starts again (scripts/prune-empty-databases.ts).
   */
  disk_after_prune: (DiskSample & { removed: number }) | null;
  /** Cores each process kept busy over the load, and the whole machine (the rest is what else ran). */
  cores: Record<string, number>;
  machine_busy_cores: number;
  loadavg_at_start: number[];
  loadavg_at_end: number[];
  /** Edge errors workerd printed (counted, not shown), by message. */
  edge_log_errors?: Record<string, number>;
}

const FINAL_OK = "COMPLETED";

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const say = options.onProgress ?? (() => {});
  const inspectorPort = options.heap ? await freePort() : undefined;
  say(
    `starting the stack: edge (retention ${options.retentionHours} h), Python agent (offline), host-agent (sandbox ${options.sandbox ? "on" : "off"})`,
  );
  const stack = await Stack.start(
    {
      ATOMIC_LOG_LEVEL: "ERROR",
      ATOMIC_MAX_CONCURRENT: "2000",
      ATOMIC_MAX_QUEUE_SIZE: "20000",
      ATOMIC_PIPELINE_RETENTION_HOURS: String(options.retentionHours),
    },
    inspectorPort,
  );
  options.onStack?.(stack);
  let inspector: Inspector | null = null;
  try {
    const python = await stack.startPython("python");
    stack.startHostAgent("soak-agent", {
      ATOMIC_IPC_SOCKET: python.socket,
      ATOMIC_THREADS: "1024",
      ATOMIC_IPC_POOL_SIZE: "8",
      ATOMIC_SANDBOX: options.sandbox ? "on" : "off",
    });
    await stack.waitForAgent("soak-agent");
    const workerd = await stack.workerd();
    if (inspectorPort !== undefined) inspector = await Inspector.connect(`ws://127.0.0.1:${inspectorPort}/ws`);
    const pids: Partial<Record<ProcessName, number>> = {
      "node (wrangler + soak client)": process.pid,
      "host-agent": stack.get("soak-agent")?.pid ?? -1,
      "Python agent": python.pid,
    };
    if (workerd.runtime) pids[WORKERD] = workerd.runtime.pid;
    if (workerd.proxy) pids["workerd (wrangler's dev proxy)"] = workerd.proxy.pid;

    const t0 = performance.now();
    let completed = 0;
    const errors: string[] = [];
    const samples: Sample[] = [];
    const checkpoints: Checkpoint[] = [];
    let diskPeak: DiskSample = sampleDisk(stack.stateDir);

    const heapNow = async (): Promise<HeapSample | null> => {
      if (!inspector) return null;
      // A second inspector session on the isolate takes over this one's: its answers may never come.
      const usage = (await withTimeout(inspector.send("Runtime.getHeapUsage"), INSPECTOR_TIMEOUT_MS)) as {
        usedSize: number;
        totalSize: number;
      } | null;
      return usage === null ? null : { used_mb: toMb(usage.usedSize), total_mb: toMb(usage.totalSize) };
    };
    const sample = async (): Promise<Sample> => {
      const processes: Sample["processes"] = {};
      for (const name of PROCESS_NAMES) {
        const pid = pids[name];
        const found = pid === undefined ? null : sampleProcess(pid);
        if (found) processes[name] = found;
      }
      const disk = sampleDisk(stack.stateDir);
      if (disk.bytes > diskPeak.bytes) diskPeak = { ...disk };
      const s: Sample = {
        t_s: Math.round((performance.now() - t0) / 100) / 10,
        completed,
        errors: errors.length,
        processes,
        disk,
        heap: await heapNow(),
      };
      samples.push(s);
      return s;
    };
    const checkpoint = async (name: Checkpoint["name"], collect = false): Promise<Checkpoint> => {
      const s = await sample();
      let afterGc: HeapSample | null = null;
      if (inspector && collect) {
        await inspector
          .collectGarbage(INSPECTOR_TIMEOUT_MS * 6)
          .catch((error: unknown) => say(`the Worker's isolate did not collect: ${String(error)}`));
        afterGc = await heapNow();
      }
      const point: Checkpoint = {
        ...s,
        name,
        workerd_fds: pids[WORKERD] === undefined ? {} : fdKinds(pids[WORKERD]),
        heap_after_gc: afterGc,
        allocator: options.allocator && pids[WORKERD] !== undefined ? allocatorOf(pids[WORKERD]) : null,
      };
      checkpoints.push(point);
      say(`checkpoint ${name}: ${describe(point)}`);
      return point;
    };
    const report = (s: Sample) =>
      say(`${s.completed.toLocaleString("en-US")} done, ${s.errors} errors; ${describe(s)}`);

    await checkpoint("start");
    const cpuAtStart = cpuOf(pids);
    const machineAtStart = machineCpuSeconds();
    const loadAtStart = loadavg().map(round2);
    const sampler = setInterval(() => void sample().then(report), options.sampleEverySeconds * 1000);

    let sent = 0;
    let warmTaken: Promise<Checkpoint> | null = null;
    const body = { prompt: options.prompt };
    const loadDeadline =
      options.maxLoadMinutes > 0 ? performance.now() + options.maxLoadMinutes * 60_000 : Number.POSITIVE_INFINITY;
    const client = async (): Promise<void> => {
      while (sent < options.pipelines && performance.now() < loadDeadline) {
        sent += 1;
        const answer = await stack.http.post("/api/generate", body);
        const state = (jsonOf(answer) as { state?: unknown } | null)?.state;
        if (answer.status !== 200) errors.push(errorKey(answer));
        else if (state !== FINAL_OK) errors.push(`state:${String(state)}`);
        else completed += 1;
        if (warmTaken === null && completed + errors.length >= Math.min(options.warmup, options.pipelines)) {
          warmTaken = checkpoint("warm");
        }
      }
    };
    say(`sending ${options.pipelines} pipelines at concurrency ${options.concurrency}`);
    const loadStarted = performance.now();
    await Promise.all(Array.from({ length: options.concurrency }, client));
    const loadS = (performance.now() - loadStarted) / 1000;
    clearInterval(sampler);
    if (warmTaken) await warmTaken;
    const cpuAtEnd = cpuOf(pids);
    const machineAtEnd = machineCpuSeconds();
    await checkpoint("end");
    const retentionS = options.retentionHours * 3600;
    if (options.idleSeconds < retentionS + 10) {
      say(
        `note: the idle period (${options.idleSeconds} s) ends before retention (${retentionS.toFixed(0)} s) has passed`,
      );
    }
    say(`idle for ${options.idleSeconds} s (retention ${retentionS.toFixed(1)} s)`);
    const idleSampler = setInterval(() => void sample().then(report), options.sampleEverySeconds * 1000);
    const idleAllocator = options.allocator
      ? setInterval(() => {
          void sample().then((s) => {
            s.allocator = pids[WORKERD] === undefined ? null : allocatorOf(pids[WORKERD]);
            report(s);
          });
        }, IDLE_ALLOCATOR_EVERY_S * 1000)
      : undefined;
    await new Promise((resolve) => setTimeout(resolve, options.idleSeconds * 1000));
    clearInterval(idleSampler);
    clearInterval(idleAllocator);
    await checkpoint("idle");
    if (options.heap && pids[WORKERD] !== undefined) {
      // wrangler's helper isolates (assets, entry, R2, ...) collect lazily: collect them all, then look again.
      const isolates = await collectEveryIsolate(pids[WORKERD]).catch((error: unknown) => {
        say(`could not collect the isolates: ${String(error)}`);
        return [];
      });
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const collected = await checkpoint("idle, every isolate collected", true);
      collected.isolates = isolates;
    }
    let afterRelease: SoakResult["after_release"] = null;
    if (options.allocator && pids[WORKERD] !== undefined) {
      const allocator = allocatorOf(pids[WORKERD], true);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      afterRelease = { allocator, workerd: sampleProcess(pids[WORKERD]) };
      say(`after asking tcmalloc to release: ${JSON.stringify(afterRelease)}`);
    }

    const cores: Record<string, number> = {};
    for (const [name, end] of Object.entries(cpuAtEnd)) {
      const start = cpuAtStart[name];
      if (start !== undefined) cores[name] = round2((end - start) / loadS);
    }
    const result: SoakResult = {
      options: {
        pipelines: options.pipelines,
        concurrency: options.concurrency,
        retentionHours: options.retentionHours,
        idleSeconds: options.idleSeconds,
        maxLoadMinutes: options.maxLoadMinutes,
        warmup: options.warmup,
        sampleEverySeconds: options.sampleEverySeconds,
        sandbox: options.sandbox,
        heap: options.heap,
        allocator: options.allocator,
        prompt: options.prompt,
      },
      after_release: afterRelease,
      started_at: new Date(Date.now() - (performance.now() - t0)).toISOString(),
      finished_at: new Date().toISOString(),
      completed,
      errors: countBy(errors),
      error_count: errors.length,
      load_s: round2(loadS),
      pipelines_per_min: Math.round((completed / loadS) * 60),
      checkpoints,
      samples,
      disk_peak: diskPeak,
      disk_after_prune: null,
      cores,
      machine_busy_cores:
        machineAtStart && machineAtEnd ? round2((machineAtEnd.busy - machineAtStart.busy) / loadS) : Number.NaN,
      loadavg_at_start: loadAtStart,
      loadavg_at_end: loadavg().map(round2),
    };
    await stack.stopAll((stateDir) => {
      const { removed } = pruneEmptyDatabases(stateDir);
      result.disk_after_prune = { ...sampleDisk(stateDir), removed };
    });
    if (result.disk_after_prune) {
      const after = result.disk_after_prune;
      say(`stopped; the start-up prune removed ${after.removed} empty databases: state ${describeDisk(after)}`);
    }
    return result;
  } finally {
    inspector?.close();
    await stack.stopAll();
  }
}

function cpuOf(pids: Partial<Record<ProcessName, number>>): Record<string, number> {
  const cpu: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    const seconds = cpuSeconds(pid);
    if (seconds !== null) cpu[name] = seconds;
  }
  return cpu;
}

function describe(s: Sample | Checkpoint): string {
  const w = s.processes[WORKERD];
  const heap = s.heap ? `, heap ${s.heap.used_mb} MB` : "";
  const allocator = s.allocator
    ? `, tcmalloc in use ${s.allocator.in_use_mb} MB, free held ${s.allocator.free_held_mb} MB`
    : "";
  return (
    `workerd ${w ? `${w.rss_mb} MB RSS (${w.private_mb ?? "?"} MB private, ${w.fds ?? "?"} fds)` : "gone"}${heap}${allocator}; ` +
    `state ${describeDisk(s.disk)}`
  );
}

function describeDisk(disk: DiskSample): string {
  return (
    `${toMb(disk.bytes)} MB in ${disk.files.toLocaleString("en-US")} files ` +
    `(pipelines' objects ${disk.pipeline_do_files.toLocaleString("en-US")} files, ${disk.pipeline_do_live} holding data; ` +
    `${disk.r2_blobs} R2 blobs)`
  );
}

/** Resolves with `promise`'s value, or null when it takes longer than `ms`. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(null), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function toMb(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
