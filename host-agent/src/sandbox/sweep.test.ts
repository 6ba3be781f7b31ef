// A host-agent killed mid-run leaves containers behind; the next one's start-up sweep removes
// them, and only them.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import Docker from "dockerode";
import { beforeAll, describe, expect, it } from "vitest";
import { DockerSandbox } from "./docker-sandbox.ts";
import { dockerGate, ensureSandboxImage, labelledContainers } from "./test-support.ts";

const gate = await dockerGate("host-agent/src/sandbox/sweep.test.ts");
const IMAGE = process.env.ATOMIC_SANDBOX_IMAGE ?? "atomic-sandbox:latest";
const MODULE_URL = new URL("./docker-sandbox.ts", import.meta.url).href;

// A host-agent in miniature: start the sandbox with a warm pool, start a run that would take a
// minute, say so, and wait to be killed. Node runs the .ts module directly (type stripping).
const CHILD = `
const { DockerSandbox } = await import(process.env.SANDBOX_MODULE);
const sandbox = await DockerSandbox.create({ image: process.env.IMAGE, warm: 1, agentId: process.env.AGENT_ID });
await sandbox.warmPoolReady();
sandbox.execute({ language: "shell", code: "echo running; sleep 60" });
const poll = setInterval(() => {
  if (sandbox.stats().activeRuns === 1) {
    clearInterval(poll);
    process.stdout.write("started\\n");
  }
}, 20);
`;

/** Runs CHILD for `agentId` and SIGKILLs it once its run has started and the pool is full. */
async function killHostAgentMidRun(agentId: string): Promise<void> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", CHILD], {
    env: { ...process.env, SANDBOX_MODULE: MODULE_URL, IMAGE, AGENT_ID: agentId },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child did not start a run in 20 s: ${stderr}`)), 20_000);
    child.stdout.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("started")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("exit", (code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
  });
  // Give the run's container a moment to pass its input to the program: it then runs `sleep 60`.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

describe.skipIf(!gate.available)("sandbox sweep", () => {
  const docker = new Docker();

  beforeAll(async () => {
    await ensureSandboxImage(IMAGE);
  }, 300_000);

  it("removes what a killed host-agent left behind when the next one starts", async () => {
    const agentId = `test-sweep-${randomUUID().slice(0, 8)}`;
    await killHostAgentMidRun(agentId);
    const leftovers = await labelledContainers(agentId);
    // The run's container and the refilled warm one (the refill may still have been starting).
    expect(leftovers.length).toBeGreaterThanOrEqual(1);
    const running = await docker.listContainers({ filters: { label: [`atomic.host_agent=${agentId}`] } });
    expect(running.length).toBeGreaterThanOrEqual(1); // the abandoned `sleep 60` is still going

    const next = await DockerSandbox.create({ image: IMAGE, warm: 0, agentId });
    try {
      expect(await labelledContainers(agentId)).toEqual([]);
      const result = await next.execute({ language: "shell", code: "echo after" });
      expect(result.stdout).toBe("after\n");
    } finally {
      await next.close();
    }
  });

  it("spares another host-agent's containers and its own live ones", async () => {
    const mine = `test-sweep-${randomUUID().slice(0, 8)}`;
    const theirs = `test-sweep-${randomUUID().slice(0, 8)}`;
    const other = await DockerSandbox.create({ image: IMAGE, warm: 1, agentId: theirs });
    const sandbox = await DockerSandbox.create({ image: IMAGE, warm: 1, agentId: mine });
    try {
      await Promise.all([other.warmPoolReady(), sandbox.warmPoolReady()]);
      expect(await sandbox.sweep()).toBe(0);
      expect(await labelledContainers(mine)).toHaveLength(1);
      expect(await labelledContainers(theirs)).toHaveLength(1);
      expect((await sandbox.execute({ language: "shell", code: "echo ok" })).stdout).toBe("ok\n");
    } finally {
      await Promise.all([other.close(), sandbox.close()]);
    }
  });
});
