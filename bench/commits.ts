/**
 * `npm run commits`: how many SQLite commits each Durable Object class makes per pipeline. Starts
 * the bench's stack (the Worker in workerd, one reference Python agent, one host-agent), warms it
 * up, then traces workerd's `fsync`/`fdatasync` calls with `strace` while N pipelines run one after
 * another. Every commit of a Durable Object's SQLite database ends in a sync of its write-ahead
 * log, so the syncs of each class's files, divided by N, are its commits per pipeline; the rest
 * (R2's metadata, new databases) is listed by file kind.
 *
 *   ATOMIC_COMMITS_PIPELINES=200 npm run commits      (needs strace: apt-get install strace)
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { progress } from "./progress.ts";
import { Stack } from "./stack.ts";

const pipelines = Number(process.env["ATOMIC_COMMITS_PIPELINES"] ?? "200");
const PROMPT = { prompt: "Hello World in Python" };

/** Which part of the edge's state a synced file belongs to, from its path under the state dir. */
function ownerOf(path: string): string {
  const durableObject = /\/do\/[^/]*?-([A-Za-z]+DO)(\/[^/]+)?$/.exec(path);
  if (durableObject) {
    const name = durableObject[2]?.slice(1) ?? "";
    const kind =
      name === ""
        ? "directory syncs (a new object's files)"
        : name.endsWith(".sqlite-wal")
          ? "WAL commits"
          : /\.sqlite(-journal|-shm)?$/.test(name)
            ? "a new object's database files"
            : name;
    return `${durableObject[1]} ${kind}`;
  }
  if (path.includes("/r2/")) return "R2";
  return `(other) ${path.replace(/.*\/v3\//, "")}`;
}

async function main(): Promise<void> {
  if (spawnSync("strace", ["-V"]).status !== 0)
    throw new Error("npm run commits needs strace (apt-get install strace)");
  if (!Number.isInteger(pipelines) || pipelines < 1)
    throw new Error("ATOMIC_COMMITS_PIPELINES must be a whole number >= 1");
  progress("starting the edge, a Python agent and a host-agent");
  const stack = await Stack.start({ ATOMIC_LOG_LEVEL: "ERROR", ATOMIC_MAX_CONCURRENT: "2000" });
  const traceDir = mkdtempSync(join(tmpdir(), "atomic-commits-"));
  try {
    const python = await stack.startPython("python");
    stack.startHostAgent("commits-agent", {
      ATOMIC_IPC_SOCKET: python.socket,
      ATOMIC_THREADS: "64",
      ATOMIC_SANDBOX: "off",
    });
    await stack.waitForAgent("commits-agent");
    const runtime = (await stack.workerd()).runtime;
    if (!runtime) throw new Error("workerd's runtime process was not found");
    progress("warming up with 20 pipelines");
    for (let i = 0; i < 20; i++) await generate(stack);
    const traceFile = join(traceDir, "trace");
    const strace = spawn(
      "strace",
      ["-f", "-y", "-e", "trace=fsync,fdatasync", "-o", traceFile, "-p", String(runtime.pid)],
      {
        stdio: "ignore",
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    progress(`tracing workerd (pid ${runtime.pid}) while ${pipelines} pipelines run one after another`);
    for (let i = 0; i < pipelines; i++) await generate(stack);
    strace.kill("SIGINT");
    await new Promise((resolve) => strace.once("exit", resolve));
    const counts = new Map<string, number>();
    for (const line of readFileSync(traceFile, "utf8").split("\n")) {
      const call = /f(?:data)?sync\(\d+<([^>]+)>\)\s+=\s+0/.exec(line);
      if (!call?.[1]) continue;
      const owner = ownerOf(call[1]);
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
    }
    const total = [...counts.values()].reduce((sum, n) => sum + n, 0);
    console.log(`\nsyncs per pipeline (${pipelines} pipelines, git ${gitCommit()}):`);
    for (const [owner, n] of [...counts.entries()].sort((a, b) => b[1] - a[1])) {
      console.log(`${(n / pipelines).toFixed(2).padStart(8)}  ${owner}`);
    }
    console.log(`${(total / pipelines).toFixed(2).padStart(8)}  all fsync + fdatasync`);
  } finally {
    await stack.stopAll();
    rmSync(traceDir, { recursive: true, force: true });
  }
}

async function generate(stack: Stack): Promise<void> {
  const answer = await stack.http.post("/api/generate", PROMPT);
  if (answer.status !== 200) throw new Error(`POST /api/generate answered ${answer.status}: ${answer.body}`);
}

function gitCommit(): string {
  return spawnSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).stdout.trim();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
