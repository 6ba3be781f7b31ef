/**
 * `npm run eval`: the verify-and-repair loop measured against hidden tests, through the real stack
 * (the Worker in workerd, the Python agent, a host-agent with Docker). For each task: a pipeline
 * with `verify: true`, then the task's hidden tests against the model's first answer and against
 * the final files, in the sandbox through `POST /api/execute`. Prints progress, then tables;
 * writes bench/results/eval.json and bench/results/eval.md. docs/EVAL.md explains the figures.
 *
 *   npm run eval                                           every task, the offline provider (a smoke test)
 *   ATOMIC_LLM_BASE_URL=... ATOMIC_LLM_MODEL=... npm run eval   a real model
 *   ATOMIC_EVAL_TASKS=ts-*,py-roman npm run eval            some tasks
 *
 * Every process it starts is stopped at the end, on error, and on Ctrl-C (twice: at once).
 */
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { HealthResponse, type ClientEvent, type SandboxFile } from "../../shared/src/index.ts";
import { ROOT } from "../../test/support/edge.ts";
import { filterEdgeErrors } from "../console-filter.ts";
import { jsonOf } from "../http-client.ts";
import { machineInfo } from "../machine.ts";
import { progress } from "../progress.ts";
import { dockerUnavailable, removeLeftovers, removeLeftoversNow } from "../sandbox.ts";
import { Stack } from "../stack.ts";
import { StopSignals } from "../stop-signals.ts";
import { evalConfig, selectTasks } from "./config.ts";
import { firstAnswer, finalEvent } from "./events.ts";
import { hiddenOutcome, hiddenRunRequest, type HiddenOutcome } from "./hidden.ts";
import { filesOfAnswer, sameProgram } from "./program.ts";
import { runPipeline } from "./pipeline.ts";
import {
  hiddenCell,
  markdownReport,
  summarize,
  summaryTable,
  taskTable,
  type EvalReport,
  type TaskResult,
} from "./report.ts";
import type { EvalTask } from "./task.ts";
import { TASKS } from "./tasks.ts";

const run = promisify(execFile);
const IMAGE = process.env["ATOMIC_SANDBOX_IMAGE"] ?? "atomic-sandbox:latest";
const AGENT = `eval-${process.pid}`;
const PYTHON = "python";
const EXTENSION = { python: "py", javascript: "js", typescript: "ts" } as const;

const config = evalConfig();
const tasks = selectTasks(TASKS, config.filter);
process.env["WRANGLER_WRITE_LOGS"] = "false";
filterEdgeErrors();

let stack: Stack | null = null;

async function cleanUp(): Promise<void> {
  await stack?.stopAll();
  stack = null;
  const removed = await removeLeftovers([AGENT]).catch(() => 0);
  if (removed > 0) progress(`removed ${removed} sandbox container(s) left behind`);
}

const signals = new StopSignals(cleanUp, () => {
  stack?.killNow();
  removeLeftoversNow([AGENT]);
});

/** Null when the sandbox image carries the verification driver; otherwise why the eval cannot run. */
async function driverMissing(): Promise<string | null> {
  try {
    await run("docker", ["run", "--rm", "--network", "none", IMAGE, "test", "-f", "/usr/local/lib/atomic/verify.py"], {
      timeout: 60_000,
    });
    return null;
  } catch {
    return `the image ${IMAGE} has no /usr/local/lib/atomic/verify.py: it predates verification (npm run sandbox:image)`;
  }
}

/** A progress line for the events worth a line: verification rounds, repairs, the end. */
function describe(task: EvalTask, event: ClientEvent): string | null {
  if (event.type === "verification") {
    const r = event.round;
    const counts =
      r.tests === null ? (r.skipped_reason ?? "no tests") : `${r.tests.passed} passed, ${r.tests.failed} failed`;
    return `${task.id}: verification round ${r.round}: ${r.passed ? "passed" : "failed"} (${counts})`;
  }
  if (event.type === "stage" && event.stage === "REPAIRING" && event.status === "started")
    return `${task.id}: repair ${event.round ?? "?"} started`;
  if (event.type === "stage" && (event.status === "retrying" || event.status === "restarted"))
    return `${task.id}: ${event.stage} ${event.status} (${event.reason ?? ""})`;
  if (event.type === "error") return `${task.id}: pipeline failed: ${event.code}: ${event.error}`;
  return null;
}

async function hidden(base: string, task: EvalTask, files: readonly SandboxFile[]): Promise<HiddenOutcome> {
  const { request, left_out } = hiddenRunRequest(task.language, files, task.hidden, config.hiddenTimeoutS);
  try {
    const response = await fetch(`${base}/api/execute`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(request),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      // Not JSON: the outcome quotes the status.
    }
    return hiddenOutcome(response.status, body, left_out);
  } catch (error) {
    return hiddenOutcome(0, { error: error instanceof Error ? error.message : String(error) }, left_out);
  }
}

async function evaluate(base: string, task: EvalTask, index: number): Promise<TaskResult> {
  const label = `[${index + 1}/${tasks.length}] ${task.id}`;
  progress(
    `${label}: pipeline started (${task.language}${task.metadata.framework ? `, ${task.metadata.framework}` : ""})`,
  );
  const pipeline = await runPipeline(base, task, {
    maxRepairs: config.maxRepairs,
    timeoutS: config.taskTimeoutS,
    onEvent: (event) => {
      const line = describe(task, event);
      if (line !== null) progress(line);
    },
  });
  const final = finalEvent(pipeline.events);
  const verification = final?.type === "result" ? final.verification : (pipeline.view?.verification ?? null);
  // The pipeline's requirements name the entry file an unnamed block gets; the rules' default without them.
  const requirements = pipeline.requirements ?? {
    entry_file: `main.${EXTENSION[task.language]}`,
    language: task.language,
  };
  const firstText = firstAnswer(pipeline.events);
  const firstFiles = firstText === null ? [] : filesOfAnswer(firstText, requirements);
  const finalFiles = pipeline.final_files;
  const same = firstFiles.length > 0 && sameProgram(firstFiles, finalFiles);

  const first = firstFiles.length > 0 ? await hidden(base, task, firstFiles) : null;
  const finalOutcome = finalFiles.length === 0 ? null : same ? first : await hidden(base, task, finalFiles);
  const result: TaskResult = {
    id: task.id,
    language: task.language,
    offline: task.offline,
    pipeline_id: pipeline.pipeline_id,
    state: pipeline.view?.state ?? (final?.type === "result" ? final.state : final ? "FAILED" : null),
    error: pipeline.error ?? (final?.type === "error" ? `${final.code}: ${final.error}` : null),
    wall_ms: Math.round(pipeline.wall_ms),
    verified: final?.type === "result" ? final.verified : false,
    verification_status: verification?.status ?? null,
    repairs: verification?.repairs ?? null,
    self_tests: verification?.tests ?? null,
    first,
    final: finalOutcome,
    final_same_as_first: same,
    files_first: firstFiles.map((f) => f.path),
    files_final: finalFiles.map((f) => f.path),
  };
  progress(
    `${label} done in ${(result.wall_ms / 1000).toFixed(1)} s: ${result.verified ? "verified" : `not verified (${result.verification_status ?? result.state ?? "?"})`}, ` +
      `${result.repairs ?? 0} repair(s); hidden tests: first ${hiddenCell(first)}, final ${hiddenCell(finalOutcome)}`,
  );
  return result;
}

/** Runs `work` over `items`, `limit` at a time, keeping the order of `items` in the answer. */
async function pool<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length && !signals.stopping) {
      const index = next++;
      results[index] = await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results.filter((r) => r !== undefined);
}

async function main(): Promise<void> {
  const runStarted = performance.now();
  const machine = await machineInfo();
  const model = config.model;
  progress(
    `${tasks.length} task(s), model: ${model === null ? "offline provider (a smoke test of the loop)" : `${model.name ?? "?"} at ${model.baseUrl}`}; ` +
      `max_repairs ${config.maxRepairs}, ${config.concurrency} at once; node ${machine.node}, docker ${machine.docker ?? "none"}`,
  );
  const dockerReason = (await dockerUnavailable(IMAGE)) ?? (await driverMissing());
  if (dockerReason !== null) throw new Error(`the eval needs the sandbox: ${dockerReason}`);

  progress("building the host-agent, starting the edge (workerd via wrangler), the Python agent and the host-agent");
  const edgeVars: Record<string, string> = {
    ATOMIC_LOG_LEVEL: "ERROR",
    // The request's max_repairs is the one that counts: the edge's cap must not lower it.
    ATOMIC_MAX_REPAIRS: String(Math.max(config.maxRepairs, 5)),
  };
  for (const name of ["ATOMIC_STAGE_TIMEOUT_MS", "ATOMIC_AGENT_WAIT_MS"]) {
    const value = process.env[name];
    if (value !== undefined && value !== "") edgeVars[name] = value;
  }
  stack = await Stack.start(edgeVars);
  signals.keepOnlyOurs();
  const s = stack;
  // The Python agent inherits this environment, ATOMIC_LLM_* included: that is how a real model is chosen.
  const python = await s.startPython(PYTHON);
  s.startHostAgent(AGENT, { ATOMIC_IPC_SOCKET: python.socket, ATOMIC_SANDBOX_WARM: "0" });
  await s.waitForAgent(AGENT, "default", (a) => a.llm === "healthy" && a.docker === "available", 60_000);
  const health = HealthResponse.safeParse(jsonOf(await s.http.get("/health")));
  const providerName = health.success ? health.data.llm_provider : null;
  progress(`stack up at ${s.edge.url}; the Python agent's provider: ${providerName ?? "?"}`);

  const results = await pool(tasks, config.concurrency, (task, index) => evaluate(s.edge.url, task, index));
  progress("stopping the stack");
  await cleanUp();

  const summary = summarize(results);
  const report: EvalReport = {
    schema: "atomic-eval/1",
    date: machine.date,
    git_commit: machine.git_commit,
    git_dirty: machine.git_dirty,
    provider: {
      kind: model === null ? "offline" : "openai-compatible",
      model: model?.name ?? null,
      base_url: model?.baseUrl ?? null,
      health: providerName,
    },
    settings: {
      max_repairs: config.maxRepairs,
      concurrency: config.concurrency,
      hidden_timeout_s: config.hiddenTimeoutS,
      task_timeout_s: config.taskTimeoutS,
      filter: config.filter,
    },
    machine: {
      cpus: machine.cpus,
      memory_mb: machine.memory_mb,
      node: machine.node,
      python: machine.python,
      docker: machine.docker,
    },
    duration_s: Math.round((performance.now() - runStarted) / 1000),
    summary,
    tasks: results,
  };
  const dir = join(ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "eval.json"), JSON.stringify(report, null, 2) + "\n");
  writeFileSync(join(dir, "eval.md"), markdownReport(report));

  const print = (text: string) => process.stdout.write(`${text}\n`);
  print("\n== Tasks\n");
  print(taskTable(results));
  print("\n== Summary\n");
  print(summaryTable(summary));
  if (model === null && summary.offline_tasks.passed < summary.offline_tasks.of) {
    print(
      `\nSMOKE TEST: ${summary.offline_tasks.of - summary.offline_tasks.passed} task(s) meant for the offline templates failed their hidden tests`,
    );
    process.exitCode = 1;
  }
  print(`\nwritten: bench/results/eval.json, bench/results/eval.md (${report.duration_s} s in all)`);
}

main()
  .catch(async (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
    await cleanUp().catch((cleanupError: unknown) => console.error(cleanupError));
  })
  .finally(() => {
    if (!signals.stopping) process.exit(process.exitCode ?? 0);
  });
