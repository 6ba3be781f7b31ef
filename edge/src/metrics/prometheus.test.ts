import { describe, expect, it } from "vitest";
import { StageName } from "../../../shared/src/index.ts";
import type { AgentInfo } from "../scheduler/agent-registry.ts";
import { emptyHistogram, type HistogramState, LATENCY_BUCKETS_S, observe } from "./histogram.ts";
import { toPrometheus } from "./prometheus.ts";
import {
  executionHistogram,
  type MetricsSnapshot,
  pipelineHistogram,
  QUEUE_WAIT_HISTOGRAM,
  stageHistogram,
} from "./snapshot.ts";

// ---- a parser of the Prometheus text exposition format 0.0.4, strict where Prometheus is ----

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Family {
  type: string;
  help: string | null;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const FLOAT = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseFloatValue(text: string, where: string): number {
  if (!FLOAT.test(text)) throw new Error(`${where}: ${JSON.stringify(text)} is no float`);
  if (text.endsWith("Inf")) return text.startsWith("-") ? -Infinity : Infinity;
  return Number(text);
}

/** Reads `{a="x",b="y"}` from the start of `text`; answers the labels and what follows. */
function parseLabels(text: string, where: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1; // past "{"
  for (;;) {
    if (text[i] === "}") return { labels, rest: text.slice(i + 1) };
    const name = LABEL_NAME.exec(text.slice(i))?.[0];
    if (name === undefined) throw new Error(`${where}: no label name at ${JSON.stringify(text.slice(i))}`);
    if (name in labels) throw new Error(`${where}: label ${name} twice`);
    i += name.length;
    if (text.slice(i, i + 2) !== '="') throw new Error(`${where}: label ${name} lacks ="`);
    i += 2;
    let value = "";
    for (;;) {
      const ch = text[i];
      if (ch === undefined) throw new Error(`${where}: label ${name}'s value never closes`);
      i += 1;
      if (ch === '"') break;
      if (ch !== "\\") {
        value += ch;
        continue;
      }
      const escaped = text[i];
      i += 1;
      if (escaped === "\\") value += "\\";
      else if (escaped === '"') value += '"';
      else if (escaped === "n") value += "\n";
      else throw new Error(`${where}: label ${name} holds the escape \\${escaped ?? ""}`);
    }
    labels[name] = value;
    if (text[i] === ",") i += 1;
    else if (text[i] !== "}") throw new Error(`${where}: expected , or } after label ${name}`);
  }
}

/**
 * Parses an exposition into its metric families. Throws on what Prometheus would refuse: a bad
 * name, label or float, an unknown escape, a TYPE after its samples or given twice, a family whose
 * lines are not together, a sample of no declared family, one series twice, no final newline.
 */
function parseExposition(text: string): Map<string, Family> {
  if (!text.endsWith("\n")) throw new Error("the exposition does not end in a newline");
  const families = new Map<string, Family>();
  const finished = new Set<string>();
  const series = new Set<string>();
  let current: string | null = null;
  const enter = (family: string, where: string) => {
    if (current === family) return;
    if (finished.has(family)) throw new Error(`${where}: the lines of ${family} are not together`);
    if (current !== null) finished.add(current);
    current = family;
  };
  const familyOf = (name: string): string | null => {
    if (families.has(name)) return name;
    const base = name.replace(/_(bucket|sum|count)$/, "");
    const type = families.get(base)?.type;
    return type === "histogram" || type === "summary" ? base : null;
  };

  text
    .slice(0, -1)
    .split("\n")
    .forEach((line, index) => {
      const where = `line ${index + 1}`;
      if (line.trim() === "") return;
      const meta = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (meta) {
        const [, keyword = "", name = "", rest = ""] = meta;
        if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name ${name}`);
        enter(name, where);
        const family = families.get(name) ?? { type: "untyped", help: null, samples: [] };
        families.set(name, family);
        if (keyword === "HELP") {
          if (family.help !== null) throw new Error(`${where}: HELP ${name} twice`);
          if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ""))) throw new Error(`${where}: HELP ${name} holds a bad escape`);
          family.help = rest.replace(/\\(\\|n)/g, (_, c: string) => (c === "n" ? "\n" : "\\"));
        } else {
          if (!TYPES.has(rest)) throw new Error(`${where}: unknown type ${rest}`);
          if (family.samples.length > 0) throw new Error(`${where}: TYPE ${name} after its samples`);
          if (family.type !== "untyped") throw new Error(`${where}: TYPE ${name} twice`);
          family.type = rest;
        }
        return;
      }
      if (line.startsWith("#")) return; // a comment
      const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
      if (name === undefined) throw new Error(`${where}: no metric name in ${JSON.stringify(line)}`);
      let rest = line.slice(name.length);
      let labels: Record<string, string> = {};
      if (rest.startsWith("{")) ({ labels, rest } = parseLabels(rest, where));
      const fields = rest.trim().split(/\s+/);
      if (!/^\s/.test(rest) || fields.length < 1 || fields.length > 2)
        throw new Error(`${where}: expected " value [timestamp]" after the labels`);
      const value = parseFloatValue(fields[0] ?? "", where);
      if (fields[1] !== undefined && !/^-?\d+$/.test(fields[1])) throw new Error(`${where}: bad timestamp`);
      const familyName = familyOf(name);
      if (familyName === null) throw new Error(`${where}: ${name} has no TYPE`);
      enter(familyName, where);
      const key = `${name}{${Object.entries(labels)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(",")}}`;
      if (series.has(key)) throw new Error(`${where}: series ${key} twice`);
      series.add(key);
      families.get(familyName)?.samples.push({ name, labels, value });
    });
  return families;
}

/** One family, which the test needs to be there. */
function family(families: Map<string, Family>, name: string): Family {
  const found = families.get(name);
  if (!found) throw new Error(`no family ${name} among ${[...families.keys()].join(", ")}`);
  return found;
}

/** The one sample of `name` whose labels include `labels`. */
function sample(families: Map<string, Family>, familyName: string, name: string, labels: Record<string, string>) {
  const matches = family(families, familyName).samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  expect(matches, `${name} ${JSON.stringify(labels)}`).toHaveLength(1);
  return matches[0]?.value;
}

// ---- snapshots ----

function histogramOf(...ms: number[]): HistogramState {
  const state = emptyHistogram();
  for (const value of ms) observe(state, value);
  return state;
}

function agentInfo(agent_id: string, connected: boolean): AgentInfo {
  return {
    agent_id,
    labels: {},
    capacity: 2,
    kinds: ["export"],
    health: { llm: { status: "healthy" }, docker: { status: "available" } },
    connected,
    draining: false,
    running: 0,
    last_heartbeat_at: null,
    connected_at: 0,
  };
}

function snapshot(
  histograms: Record<string, HistogramState> = {},
  executionFailures: MetricsSnapshot["execution_failures"] = {},
): MetricsSnapshot {
  return {
    counters: {
      total_requests: 17,
      successful_requests: 11,
      failed_requests: 2,
      cancelled_requests: 1,
      rejected_requests: 3,
    },
    histograms,
    execution_failures: executionFailures,
    verifications: [],
    active_pipelines: 2,
    queue_size: 4,
    queue_by_priority: { high: 1, normal: 2, low: 1 },
    tenants: [],
    jobs_waiting: 5,
    jobs_running: 6,
    max_concurrent: 8,
    max_queue_size: 100,
    agents: [agentInfo("a", true), agentInfo("b", false), agentInfo("c", true)],
  };
}

const EVERY_STAGE = Object.fromEntries(StageName.options.map((stage) => [stageHistogram(stage), histogramOf(20)]));

// ---- the tests ----

describe("parseExposition (the test's own parser)", () => {
  it("refuses what Prometheus refuses, so a pass means something", () => {
    const ok = '# TYPE m gauge\nm{a="x"} 1\n';
    expect(() => parseExposition(ok)).not.toThrow();
    expect(() => parseExposition('# TYPE m gauge\nm{a="x"} 1')).toThrow(/newline/);
    expect(() => parseExposition('# TYPE m gauge\nm{a="x"y"} 1\n')).toThrow();
    expect(() => parseExposition('# TYPE m gauge\nm{a="x\\t"} 1\n')).toThrow(/escape/);
    expect(() => parseExposition("m 1\n")).toThrow(/no TYPE/);
    expect(() => parseExposition("# TYPE m gauge\nm 1\n# TYPE m gauge\n")).toThrow();
    expect(() => parseExposition("# TYPE m gauge\nm one\n")).toThrow(/no float/);
    expect(() => parseExposition("# TYPE m gauge\nm 1\nm 2\n")).toThrow(/twice/);
    expect(() => parseExposition("# TYPE m gauge\n# TYPE n gauge\nm 1\nn 1\n")).toThrow(/together/);
    expect(() => parseExposition("# TYPE m gauge\nm{a=x} 1\n")).toThrow();
  });
});

describe("toPrometheus", () => {
  it("writes a pool's counters and gauges as the text format, each family typed and described", () => {
    const families = parseExposition(toPrometheus(snapshot(EVERY_STAGE), "default", 12_345));
    for (const [name, f] of families) {
      expect(f.help, name).not.toBeNull();
      expect(f.samples.length, name).toBeGreaterThan(0);
    }
    expect(family(families, "atomic_pipelines_total").type).toBe("counter");
    const byOutcome = Object.fromEntries(
      family(families, "atomic_pipelines_total").samples.map((s) => [s.labels["outcome"], s.value]),
    );
    expect(byOutcome).toEqual({ accepted: 17, completed: 11, failed: 2, cancelled: 1, rejected: 3 });
    const gauges: Array<[string, number]> = [
      ["atomic_active_pipelines", 2],
      ["atomic_queue_size", 4],
      ["atomic_jobs_running", 6],
      ["atomic_jobs_waiting", 5],
      ["atomic_agents_connected", 2],
      ["atomic_uptime_seconds", 12.345],
    ];
    for (const [name, value] of gauges) {
      expect(family(families, name).type, name).toBe("gauge");
      expect(family(families, name).samples, name).toEqual([{ name, labels: { pool: "default" }, value }]);
    }
  });

  it("writes cumulative buckets that end at +Inf equal to the count, with the sum in seconds", () => {
    // 3 ms, twice 30 ms, 700 ms, and one past the last bound (400 s).
    const state = histogramOf(3, 30, 30, 700, 400_000);
    const families = parseExposition(toPrometheus(snapshot({ [pipelineHistogram("COMPLETED")]: state }), "default", 0));
    const f = family(families, "atomic_pipeline_duration_seconds");
    expect(f.type).toBe("histogram");
    const buckets = f.samples.filter((s) => s.name === "atomic_pipeline_duration_seconds_bucket");
    expect(buckets.map((s) => s.labels["le"])).toEqual([...LATENCY_BUCKETS_S.map(String), "+Inf"]);
    for (const s of buckets) expect(s.labels).toMatchObject({ pool: "default", outcome: "completed" });
    const cumulative = buckets.map((s) => s.value);
    for (let i = 1; i < cumulative.length; i++) expect(cumulative[i]).toBeGreaterThanOrEqual(cumulative[i - 1] ?? 0);
    const at = (le: string) => buckets.find((s) => s.labels["le"] === le)?.value;
    expect([at("0.005"), at("0.025"), at("0.05"), at("0.5"), at("1"), at("300"), at("+Inf")]).toEqual([
      1, 1, 3, 3, 4, 4, 5,
    ]);
    const labels = { outcome: "completed" };
    expect(sample(families, "atomic_pipeline_duration_seconds", "atomic_pipeline_duration_seconds_count", labels)).toBe(
      5,
    );
    expect(
      sample(families, "atomic_pipeline_duration_seconds", "atomic_pipeline_duration_seconds_sum", labels),
    ).toBeCloseTo(400.763, 9);
  });

  it("prints a sum of milliseconds without binary-fraction noise", () => {
    // 0.009 + 0.009 + 0.009 is 0.027000000000000003 in binary floating point.
    const text = toPrometheus(snapshot({ [pipelineHistogram("COMPLETED")]: histogramOf(9, 9, 9) }), "default", 0);
    expect(text).toContain('atomic_pipeline_duration_seconds_sum{pool="default",outcome="completed"} 0.027\n');
  });

  it("writes one series per pipeline outcome and the queue wait, only for what was observed", () => {
    const families = parseExposition(
      toPrometheus(
        snapshot({
          [pipelineHistogram("COMPLETED")]: histogramOf(100, 200),
          [pipelineHistogram("CANCELLED")]: histogramOf(50),
          [QUEUE_WAIT_HISTOGRAM]: histogramOf(7),
        }),
        "default",
        0,
      ),
    );
    const counts = (name: string, label: string) =>
      Object.fromEntries(
        family(families, name)
          .samples.filter((s) => s.name === `${name}_count`)
          .map((s) => [s.labels[label], s.value]),
      );
    expect(counts("atomic_pipeline_duration_seconds", "outcome")).toEqual({ completed: 2, cancelled: 1 });
    expect(counts("atomic_queue_wait_seconds", "queue")).toEqual({ admission: 1 });
    expect(families.has("atomic_stage_duration_seconds")).toBe(false);
  });

  it("names every stage of StageName that has a histogram in a stage label", () => {
    const families = parseExposition(toPrometheus(snapshot(EVERY_STAGE), "default", 0));
    const stages = family(families, "atomic_stage_duration_seconds")
      .samples.filter((s) => s.name === "atomic_stage_duration_seconds_count")
      .map((s) => s.labels["stage"]);
    expect(stages.toSorted()).toEqual([...StageName.options].sort());
    expect(stages).toHaveLength(StageName.options.length);
  });

  it("names only the stages that have a histogram", () => {
    const families = parseExposition(
      toPrometheus(snapshot({ [stageHistogram("GENERATING")]: histogramOf(1_500) }), "default", 0),
    );
    const counts = family(families, "atomic_stage_duration_seconds").samples.filter(
      (s) => s.name === "atomic_stage_duration_seconds_count",
    );
    expect(counts).toEqual([
      { name: "atomic_stage_duration_seconds_count", labels: { pool: "default", stage: "GENERATING" }, value: 1 },
    ]);
  });

  it("leaves the histogram families out of a pool that observed nothing, and still parses", () => {
    const families = parseExposition(toPrometheus(snapshot(), "default", 0));
    expect([...families.values()].map((f) => f.type).sort()).toEqual([
      "counter",
      "counter",
      "gauge",
      "gauge",
      "gauge",
      "gauge",
      "gauge",
      "gauge",
    ]);
  });

  it("counts /api/execute runs by outcome, failed ones by code, with a duration histogram per outcome", () => {
    const families = parseExposition(
      toPrometheus(
        snapshot(
          {
            [executionHistogram("ok")]: histogramOf(40, 60, 3_000),
            [executionHistogram("failed")]: histogramOf(10, 20, 30),
            [executionHistogram("timed_out")]: histogramOf(31_000),
          },
          { sandbox_unavailable: 2, agent_error: 1 },
        ),
        "default",
        0,
      ),
    );
    const runs = family(families, "atomic_executions_total");
    expect(runs.type).toBe("counter");
    expect(runs.samples.map((s) => [s.labels["outcome"], s.labels["code"], s.value])).toEqual([
      ["ok", undefined, 3],
      ["timed_out", undefined, 1],
      ["cancelled", undefined, 0],
      ["failed", "sandbox_unavailable", 2],
      ["failed", "agent_error", 1],
    ]);
    const counts = family(families, "atomic_execution_duration_seconds")
      .samples.filter((s) => s.name === "atomic_execution_duration_seconds_count")
      .map((s) => [s.labels["outcome"], s.value]);
    expect(counts).toEqual([
      ["ok", 3],
      ["failed", 3],
      ["timed_out", 1],
    ]);
  });

  it("escapes quotes, backslashes and newlines in label values", () => {
    const pool = 'we"ird\\po\nol';
    const text = toPrometheus(snapshot(EVERY_STAGE), pool, 0);
    expect(text).toContain('atomic_queue_size{pool="we\\"ird\\\\po\\nol"} 4\n');
    const families = parseExposition(text);
    const pools = new Set([...families.values()].flatMap((f) => f.samples.map((s) => s.labels["pool"])));
    expect([...pools]).toEqual([pool]);
  });
});
