// The warm pool against the real engine: runs are served by pre-started containers, each used
// once, and the pool refills and heals itself.
import { randomUUID } from "node:crypto";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerSandbox } from "./docker-sandbox.ts";
import { dockerGate, ensureSandboxImage, labelledContainers } from "./test-support.ts";

const gate = await dockerGate("host-agent/src/sandbox/warm-pool.test.ts");
const IMAGE = process.env.ATOMIC_SANDBOX_IMAGE ?? "atomic-sandbox:latest";
const MIB = 1024 * 1024;

describe.skipIf(!gate.available)("sandbox warm pool", () => {
  const agentId = `test-pool-${randomUUID().slice(0, 8)}`;
  const docker = new Docker();
  let sandbox: DockerSandbox;

  const hostnameRun = async (): Promise<string> => {
    const result = await sandbox.execute({ language: "shell", code: "cat /etc/hostname" });
    expect(result.exit_code).toBe(0);
    return result.stdout.trim();
  };

  beforeAll(async () => {
    await ensureSandboxImage(IMAGE);
    sandbox = await DockerSandbox.create({ image: IMAGE, warm: 2, agentId });
    await sandbox.warmPoolReady();
  }, 300_000);

  afterAll(async () => {
    await sandbox?.close();
  });

  it("starts the configured number of containers and keeps them ready", async () => {
    expect(sandbox.stats().poolReady).toBe(2);
    const containers = await docker.listContainers({ filters: { label: [`atomic.host_agent=${agentId}`] } });
    expect(containers).toHaveLength(2);
    expect(containers.every((info) => info.State === "running")).toBe(true);
  });

  it("serves a run from a container that was already running", async () => {
    const before = await labelledContainers(agentId);
    const { warmRuns, coldRuns } = sandbox.stats();
    const hostname = await hostnameRun();
    expect(before.some((id) => id.startsWith(hostname))).toBe(true);
    expect(sandbox.stats()).toMatchObject({ warmRuns: warmRuns + 1, coldRuns });
  });

  it("uses each container for one run only and removes it afterwards", async () => {
    const hostnames: string[] = [];
    for (let i = 0; i < 4; i++) {
      await sandbox.warmPoolReady();
      hostnames.push(await hostnameRun());
    }
    expect(new Set(hostnames).size).toBe(4);
    await sandbox.removalsSettled();
    const remaining = await labelledContainers(agentId);
    for (const hostname of hostnames) expect(remaining.some((id) => id.startsWith(hostname))).toBe(false);
  });

  it("refills after each take with new containers", async () => {
    await sandbox.warmPoolReady();
    const before = await labelledContainers(agentId);
    await hostnameRun();
    await sandbox.warmPoolReady();
    await sandbox.removalsSettled();
    const after = await labelledContainers(agentId);
    expect(after).toHaveLength(2);
    expect(after.filter((id) => !before.includes(id))).toHaveLength(1);
  });

  it("starts a run cold when its limits differ from the pool's, or when the pool is empty", async () => {
    const { warmRuns, coldRuns } = sandbox.stats();
    const result = await sandbox.execute({ language: "python", code: "print(2)", limits: { memory_bytes: 256 * MIB } });
    expect(result.stdout).toBe("2\n");
    expect(sandbox.stats()).toMatchObject({ warmRuns, coldRuns: coldRuns + 1 });

    await sandbox.warmPoolReady();
    const burst = await Promise.all(Array.from({ length: 4 }, () => hostnameRun()));
    expect(new Set(burst).size).toBe(4);
    expect(sandbox.stats()).toMatchObject({ warmRuns: warmRuns + 2, coldRuns: coldRuns + 3 });
  });

  it("replaces a warm container that dies while idle", async () => {
    await sandbox.warmPoolReady();
    await sandbox.removalsSettled();
    const [victim] = await labelledContainers(agentId);
    if (victim === undefined) throw new Error("the pool has no container");
    await docker.getContainer(victim).kill();
    const deadline = Date.now() + 10_000;
    let current = await labelledContainers(agentId);
    while ((current.includes(victim) || current.length < 2) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      current = await labelledContainers(agentId);
    }
    expect(current).not.toContain(victim);
    await sandbox.warmPoolReady();
    expect(await hostnameRun()).not.toBe(victim.slice(0, 12));
  });

  it("removes its containers on close", async () => {
    const other = await DockerSandbox.create({ image: IMAGE, warm: 3, agentId: `${agentId}-close` });
    await other.warmPoolReady();
    expect(await labelledContainers(`${agentId}-close`)).toHaveLength(3);
    await other.close();
    expect(await labelledContainers(`${agentId}-close`)).toEqual([]);
    await expect(other.execute({ language: "shell", code: "true" })).rejects.toMatchObject({
      code: "sandbox_unavailable",
    });
  });
});
