/**
 * `npm run profile`: where the edge spends its CPU under load. Starts the same stack as the bench
 * (the Worker in workerd, one reference Python agent, one host-agent), warms it up, then records a
 * V8 CPU profile of the Worker and its Durable Objects over workerd's inspector while a closed loop
 * of `POST /api/generate` runs. Prints the functions with the most self time and writes the whole
 * profile to bench/results/edge.cpuprofile (open it in Chrome DevTools' Performance panel). It
 * also prints workerd's CPU time per pipeline, read from /proc: with ATOMIC_PROFILE_SAMPLING=0 the
 * profiler stays off and that figure is the runtime's own, without the profiler's overhead.
 *
 *   ATOMIC_PROFILE_CONCURRENCY=64 ATOMIC_PROFILE_SECONDS=15 npm run profile
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { ROOT, freePort } from "../test/support/edge.ts";
import { Inspector } from "./inspector.ts";
import { progress } from "./progress.ts";
import { cpuSeconds } from "./proc.ts";
import { Stack } from "./stack.ts";
import { closedLoop } from "./throughput.ts";

const concurrency = Number(process.env["ATOMIC_PROFILE_CONCURRENCY"] ?? "64");
const seconds = Number(process.env["ATOMIC_PROFILE_SECONDS"] ?? "15");
const sampling = process.env["ATOMIC_PROFILE_SAMPLING"] !== "0";
const TOP = 40;

const ProfileNode = z.object({
  id: z.number(),
  callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
  children: z.array(z.number()).optional(),
});
const Profile = z.object({
  nodes: z.array(ProfileNode),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
  startTime: z.number(),
  endTime: z.number(),
});
type Profile = z.infer<typeof Profile>;

function selfTimes(profile: Profile): { total: number; rows: { name: string; ms: number }[] } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const ms = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = (profile.timeDeltas[i] ?? 0) / 1000;
    const frame = byId.get(id)?.callFrame;
    if (!frame) return;
    const file = frame.url.split("/").pop() ?? "";
    const name = `${frame.functionName || "(anonymous)"}  ${file}:${frame.lineNumber + 1}`;
    ms.set(name, (ms.get(name) ?? 0) + delta);
    total += delta;
  });
  const rows = [...ms.entries()].map(([name, value]) => ({ name, ms: value })).sort((a, b) => b.ms - a.ms);
  return { total, rows };
}

async function main(): Promise<void> {
  const inspectorPort = await freePort();
  progress("starting the edge with its inspector, a Python agent and a host-agent");
  const stack = await Stack.start(
    { ATOMIC_LOG_LEVEL: "ERROR", ATOMIC_MAX_CONCURRENT: "2000", ATOMIC_MAX_QUEUE_SIZE: "20000" },
    inspectorPort,
  );
  try {
    const python = await stack.startPython("python");
    stack.startHostAgent("profile-agent", {
      ATOMIC_IPC_SOCKET: python.socket,
      ATOMIC_THREADS: "1024",
      ATOMIC_IPC_POOL_SIZE: "8",
      ATOMIC_SANDBOX: "off",
    });
    await stack.waitForAgent("profile-agent");
    progress("warming up");
    await closedLoop(stack.http, { concurrency: 8, rampS: 0, windowS: 3, prompt: "Hello World in Python" });
    const runtimePid = (await stack.workerd()).runtime?.pid;
    const inspector = sampling ? await Inspector.connect(`ws://127.0.0.1:${inspectorPort}/ws`) : null;
    await inspector?.send("Profiler.enable");
    await inspector?.send("Profiler.setSamplingInterval", { interval: 100 });
    await inspector?.send("Profiler.start");
    progress(
      `${sampling ? "profiling" : "measuring"} ${seconds} s of POST /api/generate at concurrency ${concurrency}`,
    );
    const cpuBefore = runtimePid === undefined ? null : cpuSeconds(runtimePid);
    const load = await closedLoop(stack.http, {
      concurrency,
      rampS: 0,
      windowS: seconds,
      prompt: "Hello World in Python",
    });
    const cpuAfter = runtimePid === undefined ? null : cpuSeconds(runtimePid);
    const pipelines = load.completed_total;
    const errors = Object.values(load.errors).reduce((sum, n) => sum + n, 0);
    if (cpuBefore !== null && cpuAfter !== null) {
      console.log(
        `\nworkerd (Worker + Durable Objects): ${(((cpuAfter - cpuBefore) * 1000) / Math.max(1, pipelines)).toFixed(2)} ms CPU per pipeline; ` +
          `${pipelines} pipelines, ${load.pipelines_per_min}/min in the window, ${errors} errors, latency p50 ${load.latency_ms.p50.toFixed(1)} ms`,
      );
    }
    if (!inspector) return;
    const stopped = z.object({ profile: Profile }).parse(await inspector.send("Profiler.stop"));
    inspector.close();
    const outDir = join(ROOT, "bench", "results");
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, "edge.cpuprofile");
    writeFileSync(file, JSON.stringify(stopped.profile));
    const { total, rows } = selfTimes(stopped.profile);
    const wall = (stopped.profile.endTime - stopped.profile.startTime) / 1000;
    const busy = rows.filter((row) => !row.name.startsWith("(idle)")).reduce((sum, row) => sum + row.ms, 0);
    console.log(
      `${pipelines} pipelines in ${(wall / 1000).toFixed(1)} s (${load.pipelines_per_min}/min); ` +
        `JS thread busy ${busy.toFixed(0)} ms of ${total.toFixed(0)} sampled, ${(busy / Math.max(1, pipelines)).toFixed(2)} ms per pipeline\n`,
    );
    for (const row of rows.slice(0, TOP)) {
      console.log(
        `${row.ms.toFixed(1).padStart(9)} ms ${((row.ms / total) * 100).toFixed(1).padStart(5)} %  ${row.name}`,
      );
    }
    console.log(`\nwhole profile: ${file}`);
  } finally {
    await stack.stopAll();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
