/**
 * What an output flood costs the host outside the container's CPU limit: one run of `yes` with a
 * 5 s timeout, with the flood guard off (the output is read and dropped for the whole run) and on
 * (the default: the container is killed once stdout + stderr pass max(8 MiB, 4 × the output
 * limit)). Prints the CPU time of this process (the host-agent's sandbox code) and of the engine
 * (dockerd, containerd and the containerd shims, from /proc/<pid>/stat) over each run.
 *
 *   node scripts/measure-flood.ts      (Linux, needs the image: npm run sandbox:image)
 */
import { readdirSync, readFileSync } from "node:fs";
import { DockerSandbox } from "../host-agent/src/sandbox/index.ts";

const TICKS_PER_SECOND = 100;
const runtime = process.env.ATOMIC_SANDBOX_RUNTIME === "runsc" ? "runsc" : "runc";

function cpuSeconds(pid: string): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

function engineCpuSeconds(): number {
  let total = 0;
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      if (/^(dockerd|containerd|containerd-shim.*)$/.test(readFileSync(`/proc/${pid}/comm`, "utf8").trim())) {
        total += cpuSeconds(pid);
      }
    } catch {
      // Gone since the listing.
    }
  }
  return total;
}

for (const [label, outputKillBytes] of [
  ["guard off (read and drop for 5 s)", 0],
  ["guard on (default: killed past 8 MiB)", undefined],
] as const) {
  const sandbox = await DockerSandbox.create({ runtime, warm: 0, agentId: "measure-flood", outputKillBytes });
  const ownBefore = process.cpuUsage();
  const engineBefore = engineCpuSeconds();
  const started = performance.now();
  const result = await sandbox.execute({ language: "shell", code: "yes", limits: { timeout_seconds: 5 } });
  const seconds = (performance.now() - started) / 1000;
  const own = process.cpuUsage(ownBefore);
  const engine = engineCpuSeconds() - engineBefore;
  console.log(
    `${label.padEnd(40)} run ${seconds.toFixed(2)} s (timed_out ${result.timed_out}, truncated ${result.truncated}): ` +
      `host-agent CPU ${((own.user + own.system) / 1e6).toFixed(2)} s, engine CPU ${engine.toFixed(2)} s`,
  );
  await sandbox.close();
}
