import { createConnection, createServer, type Socket } from "node:net";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { IpcError, IpcPool } from "../../host-agent/src/ipc/index.ts";
import { removeDir, startPythonAgent } from "../support/processes.ts";
import { Fuzzer } from "../support/random.ts";

const SEED = Number(process.env["ATOMIC_FUZZ_SEED"] ?? 20261123);
const COUNT = Number(process.env["ATOMIC_FUZZ_COUNT"] ?? 300);
const TYPES = ["REQUEST", "RESPONSE", "STREAM_CHUNK", "ERROR", "HEALTH_CHECK", "HEALTH_RESPONSE", "CANCEL", "BOGUS"];

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** One random IPC line: near-protocol objects, broken JSON, or noise. */
function line(fuzz: Fuzzer): string {
  const value = fuzz.value();
  if (fuzz.random() < 0.6 && typeof value === "object" && value !== null && !Array.isArray(value)) {
    return JSON.stringify({
      ...value,
      type: fuzz.pick(TYPES),
      id: fuzz.random() < 0.8 ? `f${fuzz.int(50)}` : fuzz.value(),
    });
  }
  return fuzz.body().replace(/\n/g, " ");
}

describe("fuzzing the IPC protocol", () => {
  it(`the Python agent answers ${COUNT} random lines and stays healthy`, async () => {
    const agent = await startPythonAgent();
    cleanups.push(async () => {
      agent.proc.kill();
      await agent.proc.exited;
      removeDir(agent.dir);
    });
    const fuzz = new Fuzzer(SEED);
    const socket = createConnection(agent.socket);
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    let received = "";
    socket.on("data", (d) => (received += d.toString()));
    for (let i = 0; i < COUNT; i++) socket.write(`${line(fuzz)}\n`);
    socket.write(`${JSON.stringify({ type: "HEALTH_CHECK", id: "after-the-storm" })}\n`);
    const deadline = Date.now() + 15_000;
    while (!received.includes('"after-the-storm"') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const answer = received.split("\n").find((l) => l.includes('"after-the-storm"'));
    expect(answer && JSON.parse(answer)).toMatchObject({ type: "HEALTH_RESPONSE", status: "healthy" });
    for (const l of received.split("\n").filter(Boolean)) expect(() => JSON.parse(l)).not.toThrow();
    socket.destroy();
    expect(agent.proc.child.exitCode).toBeNull();
  });

  it(`the host-agent's pool takes ${COUNT} random answers from a broken peer without crashing`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "atomic-ipc-fuzz-"));
    cleanups.push(() => removeDir(dir));
    const path = join(dir, "peer.sock");
    const fuzz = new Fuzzer(SEED + 7);
    const sockets = new Set<Socket>();
    // A peer that answers every line with random lines: the one stand-in allowed, to send what no real agent would.
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on("data", () => {
        for (let i = 0; i < 3; i++) socket.write(`${line(fuzz)}\n`);
      });
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    cleanups.push(() => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const pool = new IpcPool({
      socketPath: path,
      size: 2,
      requestTimeoutMs: 300,
      healthIntervalMs: 0,
      reconnectBaseMs: 10,
      reconnectCapMs: 50,
    });
    cleanups.push(() => pool.close());
    const outcomes = await Promise.allSettled(
      Array.from({ length: Math.ceil(COUNT / 3) }, (_, i) =>
        pool.request("parse", { prompt: `p${i}`, metadata: {} }, { timeoutMs: 300 }),
      ),
    );
    for (const outcome of outcomes) {
      if (outcome.status === "rejected") expect(outcome.reason).toBeInstanceOf(IpcError);
    }
  });
});
