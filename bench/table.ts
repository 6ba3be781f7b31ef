/** The tables printed at the end of a run, from the same figures as latest.json. */
import { ok, type BenchResults } from "./results.ts";
import type { Summary } from "./stats.ts";

export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

function n(value: number | null | undefined, unit = ""): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "n/a";
  const rounded = Math.abs(value) < 100 ? Math.round(value * 10) / 10 : Math.round(value);
  return `${rounded.toLocaleString("en-US")}${unit}`;
}

function pct(summary: Summary, unit = " ms"): string {
  return `${n(summary.p50)} / ${n(summary.p90)} / ${n(summary.p99)}${unit}`;
}

function errors(counts: Record<string, number>): string {
  const entries = Object.entries(counts);
  return entries.length === 0 ? "0" : entries.map(([key, count]) => `${key}×${count}`).join(", ");
}

function reason(outcome: object): string {
  if ("skipped" in outcome) return `skipped: ${String(outcome.skipped)}`;
  if ("failed" in outcome) return `failed: ${String(outcome.failed)}`;
  return "";
}

export function figuresTable(results: BenchResults): string {
  const rows: string[][] = [];
  const floor = ok(results.floor);
  rows.push([
    "GET /health (floor), sequential",
    floor
      ? `${pct(floor.latency_ms)} (n=${floor.latency_ms.n}, errors ${errors(floor.errors)})`
      : reason(results.floor),
  ]);
  if (floor?.without_dev_proxy) {
    rows.push(["  the same, without wrangler's dev proxy", pct(floor.without_dev_proxy.latency_ms)]);
  }
  if (floor) rows.push(["  a 404, which asks no Durable Object", pct(floor.no_durable_object.latency_ms)]);
  const generate = ok(results.generate);
  if (generate) {
    rows.push([
      "POST /api/generate, sequential",
      `${pct(generate.latency_ms)} (n=${generate.latency_ms.n}, errors ${errors(generate.errors)})`,
    ]);
    rows.push(["  ratio p50 to the floor", `${n(generate.ratio_p50_to_floor)}×`]);
    rows.push([
      "  overhead (minus floor p50) p50 / p99",
      `${n(generate.overhead_p50_ms)} / ${n(generate.overhead_p99_ms)} ms`,
    ]);
    rows.push(["  processing_time_ms (in the PipelineDO)", pct(generate.processing_time_ms)]);
    for (const [stage, summary] of Object.entries(generate.stage_ms)) rows.push([`  stage ${stage}`, pct(summary)]);
    rows.push(["  LLM side alone (IPC parse + generate)", pct(generate.llm_side.latency_ms)]);
    if (generate.without_dev_proxy) {
      rows.push(["  the same, without wrangler's dev proxy", pct(generate.without_dev_proxy.latency_ms)]);
    }
  } else rows.push(["POST /api/generate, sequential", reason(results.generate)]);
  const throughput = ok(results.throughput);
  if (throughput) {
    for (const level of throughput) {
      rows.push([
        `throughput, concurrency ${level.concurrency}`,
        `${n(level.pipelines_per_min)} pipelines/min (${level.completed} in ${level.window_s} s after a ${n(level.ramp_s)} s ramp; whole level ${n(level.pipelines_per_min_whole_level)}/min; errors ${errors(level.errors)}; latency ${pct(level.latency_ms)}; workerd ${n(level.workerd_cpu_ms_per_pipeline)} ms CPU/pipeline)`,
      ]);
    }
  } else rows.push(["throughput", reason(results.throughput)]);
  const streams = ok(results.streams);
  if (streams) {
    const usage = results.sections.find((section) => section.name.startsWith("streams"));
    rows.push([
      `${streams.sockets} concurrent WebSocket pipelines`,
      `${streams.completed} completed, errors ${errors(streams.errors)}, ${streams.max_open} open at once, up to ${n(usage?.max_active_pipelines)} running at the edge (${usage?.edge_samples ?? 0} samples of /api/metrics, the slowest answered in ${n(usage?.edge_slowest_sample_ms)} ms), ${n(streams.wall_s)} s in all`,
    ]);
    rows.push([
      "  connect (upgrade), all at once",
      `${pct(streams.connect_ms)}; all open after ${n(streams.open_all_s)} s`,
    ]);
    rows.push(["  first token after the prompt", pct(streams.first_token_ms)]);
    rows.push(["  last token after the prompt", pct(streams.last_token_ms)]);
  } else rows.push(["concurrent WebSocket pipelines", reason(results.streams)]);
  const fan = ok(results.fan_out);
  if (fan) {
    for (const level of fan) {
      rows.push([
        `fan-out, ${level.subscribers} subscribers${level.via === "runtime directly" ? ", without wrangler's proxy" : ""}`,
        `${level.got_every_event}/${level.subscribers} got every event (${level.live_events} live events); delivery ${pct(level.delivery_ms)}; spread per event p50/p99 ${n(level.spread_ms.p50)} / ${n(level.spread_ms.p99)} ms`,
      ]);
      rows.push([
        "  connect / producer start / job placed / streaming",
        `${n(level.connect_s)} / ${n(level.producer_start_s)} / ${n(level.first_event_after_s)} / ${n(level.streaming_s)} s; client event loop busy ${n(level.client_event_loop_utilization * 100)}%`,
      ]);
      if (level.client_floor) {
        rows.push([
          "  client floor: same client, bare ws server",
          `${level.client_floor.got_every_event}/${level.client_floor.subscribers} got every event; delivery ${pct(level.client_floor.delivery_ms)}; client event loop busy ${n(level.client_floor.client_event_loop_utilization * 100)}%`,
        ]);
      }
    }
  } else rows.push(["fan-out", reason(results.fan_out)]);
  const sandbox = ok(results.sandbox);
  if (sandbox) {
    rows.push(["sandbox print(1), warm pool, /api/execute", `${pct(sandbox.warm_ms)} (n=${sandbox.warm_ms.n})`]);
    rows.push(["sandbox print(1), no pool, /api/execute", `${pct(sandbox.cold_ms)} (n=${sandbox.cold_ms.n})`]);
    rows.push(["docker run --rm --network none (CLI)", `${pct(sandbox.docker_run_ms)} (n=${sandbox.docker_run_ms.n})`]);
    rows.push([
      "  ratios of medians",
      `docker run / warm ${n(sandbox.docker_run_over_warm)}×, cold / warm ${n(sandbox.cold_over_warm)}×, errors ${errors(sandbox.errors)}`,
    ]);
    rows.push([
      "  host-agent duration_ms warm / cold p50",
      `${n(sandbox.warm_duration_ms.p50)} / ${n(sandbox.cold_duration_ms.p50)} ms`,
    ]);
  } else rows.push(["sandbox", reason(results.sandbox)]);
  const verification = ok(results.verification);
  if (verification) {
    rows.push([
      `generate "${verification.prompt}" without / with verify`,
      `p50 ${n(verification.unverified_ms.p50)} / ${n(verification.verified_ms.p50)} ms: verification adds ${n(verification.added_p50_ms)} ms (n=${verification.verified_ms.n})`,
    ]);
    rows.push([
      "one test round in a warm container",
      `${pct(verification.test_round_ms)}; VERIFYING stage p50 ${n(verification.verifying_stage_ms.p50)} ms; CPU p50 ${n(verification.test_round_cpu_ms.p50)} ms, peak ${n(verification.test_round_peak_mb.p50)} MiB; not passed ${verification.not_passed}, errors ${errors(verification.errors)}`,
    ]);
    rows.push([
      "the same driver in an already-running container",
      `${pct(verification.in_container_ms)}; the VERIFYING stage takes ${n(verification.round_over_in_container)}× that`,
    ]);
  } else rows.push(["verification", reason(results.verification)]);
  for (const proc of results.memory.processes) {
    const idle = results.memory.idle_rss_mb[proc.name];
    rows.push([
      `peak RSS ${proc.name}`,
      `${n(proc.vm_hwm_mb)} MB (VmHWM), ${n(proc.sampled_peak_rss_mb)} MB sampled` +
        (idle === undefined ? "" : `; ${n(idle)} MB idle at start`),
    ]);
  }
  if (results.memory.pipelines_created !== null) {
    rows.push([
      "  workerd runtime growth per pipeline",
      `${n(results.memory.workerd_growth_kb_per_pipeline)} KB (${results.memory.pipelines_created} pipelines in the run)`,
    ]);
  }
  rows.push([
    "edge local state on disk at the end",
    `${results.memory.edge_state_files.toLocaleString("en-US")} files, ${n(results.memory.edge_state_mb)} MB`,
  ]);
  const atLoad = results.memory.host_agent_at_load;
  if (atLoad) {
    rows.push([
      "host-agent main under its heaviest load",
      `${n(atLoad.peak_rss_mb)} MB with up to ${atLoad.max_jobs_running} jobs at once (${atLoad.section})`,
    ]);
  }
  const underJobs = results.memory.host_agent_under_jobs;
  if (underJobs) {
    rows.push([
      `host-agent with ${underJobs.pipelines} slow pipelines sent at once`,
      `up to ${underJobs.max_jobs_running} jobs at once: ${n(underJobs.rss_at_max_jobs_mb)} MB then, ${n(underJobs.peak_rss_mb)} MB peak, ${n(underJobs.rss_before_mb)} MB before (errors ${errors(underJobs.errors)}, ${n(underJobs.wall_s)} s)`,
    ]);
  }
  const scale = ok(results.scale_out);
  if (scale) {
    for (const level of scale) {
      rows.push([
        `scale-out, ${level.host_agents} host-agent(s), concurrency ${level.concurrency}`,
        `${n(level.pipelines_per_min)} pipelines/min (errors ${errors(level.errors)}; latency ${pct(level.latency_ms)}; workerd ${n(level.workerd_cpu_ms_per_pipeline)} ms CPU/pipeline)`,
      ]);
    }
  } else rows.push(["scale-out", reason(results.scale_out)]);
  return renderTable(["figure", "measured (p50 / p90 / p99 where three)"], rows);
}

export function verdictTable(results: BenchResults): string {
  const mark = (met: boolean | null) => (met === null ? "-" : met ? "met" : "NOT met");
  return renderTable(
    ["figure", "measured", "seed", "seed?", "target (DESIGN §11)", "target?"],
    results.verdicts.map((v) => [
      v.figure,
      v.measured,
      v.seed || "-",
      mark(v.seed_met),
      v.target || "-",
      mark(v.target_met),
    ]),
  );
}

export function cpuTable(results: BenchResults, main: string[]): string {
  const cell = (usage: BenchResults["sections"][number], name: string) =>
    usage.cores[name] === undefined ? "" : `${n(usage.cores[name])} (${n(usage.busiest_thread_cores[name])})`;
  const others = (usage: BenchResults["sections"][number]) => {
    const rest = Object.entries(usage.cores).filter(([name]) => !main.includes(name));
    return rest.length === 0 ? "" : n(rest.reduce((sum, [, cores]) => sum + cores, 0));
  };
  const short = (name: string) =>
    name
      .replace(" (this process, with wrangler)", "")
      .replace(/\(.*\)/, "")
      .trim();
  return renderTable(
    ["section", "wall s", "busy cores", "cpu psi", "io psi", ...main.map(short), "others", "workerd thread R/D/S"],
    results.sections.map((usage) => [
      usage.name,
      n(usage.wall_s),
      n(usage.machine_busy_cores),
      n(usage.cpu_pressure),
      n(usage.io_pressure),
      ...main.map((name) => cell(usage, name)),
      others(usage),
      usage.thread_states
        ? `${n(usage.thread_states.running)}/${n(usage.thread_states.disk_wait)}/${n(usage.thread_states.sleeping)}`
        : "",
    ]),
  );
}
