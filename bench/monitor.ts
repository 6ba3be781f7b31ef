/**
 * Watches the stack while it runs: resident memory of every process (sampled every 250 ms, and
 * the kernel's own peak, VmHWM), CPU time per process and for the whole machine per section, and
 * the edge's own view of its load (/api/metrics: running pipelines, jobs on host-agents).
 */
import { MetricsResponse } from "../shared/src/index.ts";
import type { HttpClient } from "./http-client.ts";
import { jsonOf } from "./http-client.ts";
import { cpuSeconds, machineCpuSeconds, memoryOf, pressureMicros, threadCpuSeconds, threadState } from "./proc.ts";

const MEMORY_EVERY_MS = 250;
const EDGE_EVERY_MS = 1000;
const THREAD_STATE_EVERY_MS = 10;

/** A process to watch, by role name (e.g. "workerd", "host-agent main"). */
export interface Watched {
  name: string;
  pid: number;
}

export interface SectionUsage {
  name: string;
  wall_s: number;
  /** CPU seconds each process used in the section. */
  cpu_s: Record<string, number>;
  /** cpu_s / wall_s: how many cores each process kept busy on average. */
  cores: Record<string, number>;
  /** The busiest single thread of each process, in cores (1.0: that thread never stopped). */
  busiest_thread_cores: Record<string, number>;
  /** The whole machine's busy cores on average. */
  machine_busy_cores: number;
  /** Share of the section's time in which some task waited for a CPU / for I/O (Linux PSI "some"). */
  cpu_pressure: number | null;
  io_pressure: number | null;
  /** The highest resident memory sampled in the section, MB. */
  peak_rss_mb: Record<string, number>;
  /**
   * The most pipelines running at the edge at once, and jobs running on host-agents, as sampled
   * once a second from /api/metrics (null: no sample came back during the section).
   */
  max_active_pipelines: number | null;
  max_jobs_running: number | null;
  max_queue_size: number | null;
  /** /api/metrics answers that came back during the section, and the slowest of them, ms. */
  edge_samples: number | null;
  edge_slowest_sample_ms: number | null;
  /**
   * Where the busiest thread of the process named by `traceThreadOf` spent the section, sampled
   * every 10 ms: share of samples running (R), waiting for disk I/O (D), sleeping (S), other.
   */
  thread_states: {
    process: string;
    samples: number;
    running: number;
    disk_wait: number;
    sleeping: number;
    other: number;
  } | null;
}

interface OpenSection {
  name: string;
  startedAt: number;
  cpuAtStart: Map<string, number>;
  threadsAtStart: Map<string, Map<number, number>>;
  machineAtStart: { busy: number; total: number } | null;
  cpuPressureAtStart: number | null;
  ioPressureAtStart: number | null;
  peakRss: Map<string, number>;
  edge: { active: number; jobs: number; queue: number; samples: number; slowest: number } | null;
  states: { process: string; pid: number; tid: number; counts: Map<string, number>; timer: NodeJS.Timeout } | null;
}

export const SELF = "bench client (this process, with wrangler)";

export class Monitor {
  readonly #watched: () => Watched[];
  readonly #http: HttpClient;
  readonly #peakRss = new Map<string, number>();
  readonly #hwm = new Map<string, number>();
  readonly #sections: OpenSection[] = [];
  #memoryTimer: NodeJS.Timeout | undefined;
  #edgeTimer: NodeJS.Timeout | undefined;
  #edgeBusy = false;

  readonly #traceThreadOf: string | null;

  /**
   * `watched` is asked at every sample, so processes started later are picked up. The busiest
   * thread of the process named `traceThreadOf` has its state sampled in sections that ask for it.
   */
  constructor(watched: () => Watched[], http: HttpClient, traceThreadOf: string | null = null) {
    this.#watched = () => [...watched(), { name: SELF, pid: process.pid }];
    this.#http = http;
    this.#traceThreadOf = traceThreadOf;
  }

  #traceStates(): OpenSection["states"] {
    const target = this.#watched().find((w) => w.name === this.#traceThreadOf);
    if (!target) return null;
    let busiest: { tid: number; seconds: number } | null = null;
    for (const [tid, seconds] of threadCpuSeconds(target.pid)) {
      if (busiest === null || seconds > busiest.seconds) busiest = { tid, seconds };
    }
    if (busiest === null) return null;
    const counts = new Map<string, number>();
    const tid = busiest.tid;
    const timer = setInterval(() => {
      const state = threadState(target.pid, tid);
      if (state !== null) counts.set(state, (counts.get(state) ?? 0) + 1);
    }, THREAD_STATE_EVERY_MS);
    return { process: target.name, pid: target.pid, tid, counts, timer };
  }

  start(): void {
    this.#memoryTimer = setInterval(() => this.sample(), MEMORY_EVERY_MS);
    this.#edgeTimer = setInterval(() => void this.#sampleEdge(), EDGE_EVERY_MS);
  }

  stop(): void {
    clearInterval(this.#memoryTimer);
    clearInterval(this.#edgeTimer);
  }

  /** Reads every process's memory now (also called right before a process is stopped). */
  sample(): void {
    for (const { name, pid } of this.#watched()) {
      const memory = memoryOf(pid);
      if (memory === null) continue;
      this.#peakRss.set(name, Math.max(this.#peakRss.get(name) ?? 0, memory.rss));
      this.#hwm.set(name, Math.max(this.#hwm.get(name) ?? 0, memory.hwm));
      for (const section of this.#sections) {
        section.peakRss.set(name, Math.max(section.peakRss.get(name) ?? 0, memory.rss));
      }
    }
  }

  async #sampleEdge(): Promise<void> {
    const open = this.#sections.filter((section) => section.edge !== null);
    if (open.length === 0 || this.#edgeBusy) return;
    this.#edgeBusy = true;
    try {
      const answer = await this.#http.get("/api/metrics");
      const metrics = MetricsResponse.safeParse(jsonOf(answer));
      if (!metrics.success) return;
      for (const section of open) {
        const edge = section.edge!;
        edge.active = Math.max(edge.active, metrics.data.active_pipelines);
        edge.jobs = Math.max(edge.jobs, metrics.data.jobs_running);
        edge.queue = Math.max(edge.queue, metrics.data.queue_size);
        edge.samples += 1;
        edge.slowest = Math.max(edge.slowest, answer.ms);
      }
    } finally {
      this.#edgeBusy = false;
    }
  }

  #threadsNow(): Map<string, Map<number, number>> {
    const threads = new Map<string, Map<number, number>>();
    for (const { name, pid } of this.#watched()) threads.set(name, threadCpuSeconds(pid));
    return threads;
  }

  #cpuNow(): Map<string, number> {
    const cpu = new Map<string, number>();
    for (const { name, pid } of this.#watched()) {
      if (pid === process.pid) {
        const usage = process.cpuUsage();
        cpu.set(name, (usage.user + usage.system) / 1e6);
        continue;
      }
      const seconds = cpuSeconds(pid);
      if (seconds !== null) cpu.set(name, seconds);
    }
    return cpu;
  }

  /**
   * Opens a section; `watchEdge` also polls /api/metrics once a second while it is open and
   * samples the state of the traced process's busiest thread.
   */
  begin(name: string, watchEdge = false): () => SectionUsage {
    const section: OpenSection = {
      name,
      startedAt: performance.now(),
      cpuAtStart: this.#cpuNow(),
      threadsAtStart: this.#threadsNow(),
      machineAtStart: machineCpuSeconds(),
      cpuPressureAtStart: pressureMicros("cpu"),
      ioPressureAtStart: pressureMicros("io"),
      peakRss: new Map(),
      edge: watchEdge ? { active: 0, jobs: 0, queue: 0, samples: 0, slowest: 0 } : null,
      states: watchEdge ? this.#traceStates() : null,
    };
    this.#sections.push(section);
    this.sample();
    return () => this.#end(section);
  }

  #end(section: OpenSection): SectionUsage {
    this.sample();
    if (section.states) clearInterval(section.states.timer);
    this.#sections.splice(this.#sections.indexOf(section), 1);
    const wall = (performance.now() - section.startedAt) / 1000;
    const cpuEnd = this.#cpuNow();
    const cpu: Record<string, number> = {};
    const cores: Record<string, number> = {};
    for (const [name, end] of cpuEnd) {
      const start = section.cpuAtStart.get(name) ?? 0;
      cpu[name] = round2(end - start);
      cores[name] = round2((end - start) / wall);
    }
    const busiest: Record<string, number> = {};
    for (const [name, threads] of this.#threadsNow()) {
      const before = section.threadsAtStart.get(name) ?? new Map<number, number>();
      let top = 0;
      for (const [tid, seconds] of threads) top = Math.max(top, seconds - (before.get(tid) ?? 0));
      busiest[name] = round2(top / wall);
    }
    const pressure = (end: number | null, start: number | null) =>
      end === null || start === null ? null : round2((end - start) / 1e6 / wall);
    const machineEnd = machineCpuSeconds();
    const machineBusy =
      machineEnd && section.machineAtStart ? (machineEnd.busy - section.machineAtStart.busy) / wall : Number.NaN;
    const peak: Record<string, number> = {};
    for (const [name, bytes] of section.peakRss) peak[name] = mb(bytes);
    return {
      name: section.name,
      wall_s: round2(wall),
      cpu_s: cpu,
      cores,
      busiest_thread_cores: busiest,
      machine_busy_cores: round2(machineBusy),
      cpu_pressure: pressure(pressureMicros("cpu"), section.cpuPressureAtStart),
      io_pressure: pressure(pressureMicros("io"), section.ioPressureAtStart),
      peak_rss_mb: peak,
      max_active_pipelines: section.edge?.samples ? section.edge.active : null,
      max_jobs_running: section.edge?.samples ? section.edge.jobs : null,
      max_queue_size: section.edge?.samples ? section.edge.queue : null,
      edge_samples: section.edge ? section.edge.samples : null,
      edge_slowest_sample_ms: section.edge?.samples ? Math.round(section.edge.slowest) : null,
      thread_states: section.states ? shares(section.states.process, section.states.counts) : null,
    };
  }

  /** Peak resident memory of each process over the whole run: sampled, and the kernel's VmHWM. */
  peaks(): Array<{ name: string; sampled_peak_rss_mb: number; vm_hwm_mb: number }> {
    return [...this.#hwm.keys()].map((name) => ({
      name,
      sampled_peak_rss_mb: mb(this.#peakRss.get(name) ?? 0),
      vm_hwm_mb: mb(this.#hwm.get(name) ?? 0),
    }));
  }
}

function mb(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

function shares(process: string, counts: Map<string, number>): SectionUsage["thread_states"] {
  const samples = [...counts.values()].reduce((sum, count) => sum + count, 0);
  const share = (state: string) => (samples === 0 ? 0 : round2((counts.get(state) ?? 0) / samples));
  const running = share("R");
  const diskWait = share("D");
  const sleeping = share("S");
  return {
    process,
    samples,
    running,
    disk_wait: diskWait,
    sleeping,
    other: round2(Math.max(0, 1 - running - diskWait - sleeping)),
  };
}
