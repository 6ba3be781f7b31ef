/**
 * Measures how long `print(1)` in Python takes through the sandbox, on this machine:
 *   - the controller with its warm pool, runs back to back (the refill of the pool competes with
 *     the next run) and spaced (the pool is full again when each run starts);
 *   - the controller without a pool (every run creates, starts and removes a container);
 *   - `docker run --rm --network none IMAGE python3 -c 'print(1)'` from the CLI, for reference.
 *
 *   node scripts/measure-sandbox.ts [runs]     (default 20; needs the image: npm run sandbox:image)
 *
 * Under the runtime `ATOMIC_SANDBOX_RUNTIME` names (runc by default; runsc for gVisor), the CLI's
 * `docker run` included.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { DockerSandbox } from "../host-agent/src/sandbox/index.ts";

const runs = Number(process.argv[2] ?? "20");
const image = process.env.ATOMIC_SANDBOX_IMAGE ?? "atomic-sandbox:latest";
const run = promisify(execFile);
const runtime = process.env.ATOMIC_SANDBOX_RUNTIME === "runsc" ? "runsc" : "runc";
console.log(`runtime: ${runtime}`);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

async function time(label: string, once: () => Promise<void>, between?: () => Promise<void>): Promise<void> {
  await once(); // warm-up: first use of the image, the engine's caches
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (between !== undefined) await between();
    const started = performance.now();
    await once();
    samples.push(performance.now() - started);
  }
  const min = Math.min(...samples);
  const max = Math.max(...samples);
  console.log(
    `${label.padEnd(44)} median ${median(samples).toFixed(0).padStart(4)} ms  (min ${min.toFixed(0)}, max ${max.toFixed(0)}, n=${runs})`,
  );
}

async function throughSandbox(sandbox: DockerSandbox): Promise<void> {
  const result = await sandbox.execute({ language: "python", code: "print(1)" });
  if (result.stdout !== "1\n" || result.exit_code !== 0)
    throw new Error(`unexpected result: ${JSON.stringify(result)}`);
}

const warm = await DockerSandbox.create({ image, runtime, warm: 2, agentId: "measure-warm" });
await warm.warmPoolReady();
await time("controller, warm pool, back to back", () => throughSandbox(warm));
await time(
  "controller, warm pool, pool full before each",
  () => throughSandbox(warm),
  () => warm.warmPoolReady(),
);
const { warmRuns, coldRuns } = warm.stats();
await warm.close();
console.log(`  (warm pool served ${warmRuns} runs, ${coldRuns} started cold)`);

const cold = await DockerSandbox.create({ image, runtime, warm: 0, agentId: "measure-cold" });
await time("controller, cold (no pool)", () => throughSandbox(cold));
await cold.close();

await time(`docker run --rm --runtime ${runtime} --network none (CLI)`, async () => {
  const { stdout } = await run("docker", [
    "run",
    "--rm",
    "--runtime",
    runtime,
    "--network",
    "none",
    image,
    "python3",
    "-c",
    "print(1)",
  ]);
  if (stdout !== "1\n") throw new Error(`unexpected output: ${stdout}`);
});
