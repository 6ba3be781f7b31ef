/**
 * Helpers for tests that need the real Docker engine (this folder's and any other suite's).
 *
 * Gating: without an engine a suite is skipped and says why; with `ATOMIC_REQUIRE_DOCKER=1` (CI,
 * a machine that must run them) a missing engine is a failure instead, so the tests cannot
 * silently stop running.
 *
 *   const docker = await dockerGate("my suite");
 *   describe.skipIf(!docker.available)("my suite", () => { ... });
 */
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import Docker from "dockerode";
import { afterAll, beforeAll, expect } from "vitest";
import { DockerSandbox } from "./docker-sandbox.ts";
import { LABEL_AGENT, LABEL_SANDBOX, SANDBOX_RUNTIMES, type SandboxRuntime } from "./container-spec.ts";
import { engineAddress, engineMessage, isNotFound } from "./engine-errors.ts";
import type { LimitPolicy } from "./limits.ts";

/** Whether the engine answered, and if not, why. */
export interface DockerGate {
  available: boolean;
  reason?: string;
}

const PING_TIMEOUT_MS = 3000;

/**
 * Pings the engine once. When it does not answer: throws if `ATOMIC_REQUIRE_DOCKER=1`, otherwise
 * prints a visible skip notice naming `suite` and returns `{available: false, reason}`.
 */
export async function dockerGate(suite: string, docker: Docker = new Docker()): Promise<DockerGate> {
  let reason: string | undefined;
  try {
    await Promise.race([
      docker.ping(),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`no answer in ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS).unref(),
      ),
    ]);
  } catch (error) {
    reason = `Docker engine not reachable at ${engineAddress(docker)}: ${engineMessage(error)}`;
  }
  if (reason === undefined) return { available: true };
  if (process.env.ATOMIC_REQUIRE_DOCKER === "1") {
    throw new Error(`${suite}: ${reason} (ATOMIC_REQUIRE_DOCKER=1 makes this a failure)`);
  }
  console.warn(`[skip] ${suite}: ${reason}. Set ATOMIC_REQUIRE_DOCKER=1 to fail instead.`);
  return { available: false, reason };
}

const BUILD_SCRIPT = fileURLToPath(new URL("../../../scripts/build-sandbox-image.sh", import.meta.url));

/**
 * Makes sure `image` exists and was built from the current recipe, running
 * scripts/build-sandbox-image.sh (about 0.1 s when the image is up to date; a build, about one to
 * two minutes offline, when it is missing or its recipe label differs). Throws with the script's
 * output if the image is missing and cannot be built; an existing image that the script cannot
 * refresh (no docker CLI, not root) is used as it is, with a warning. Give the calling hook a long
 * timeout.
 */
export async function ensureSandboxImage(image: string, docker: Docker = new Docker()): Promise<void> {
  let exists = true;
  try {
    await docker.getImage(image).inspect();
  } catch (error) {
    if (!isNotFound(error)) throw error;
    exists = false;
    console.warn(`[setup] image ${image} not found: building it with ${BUILD_SCRIPT}`);
  }
  const build = spawnSync("bash", [BUILD_SCRIPT], {
    env: { ...process.env, ATOMIC_SANDBOX_IMAGE: image },
    encoding: "utf8",
    timeout: 600_000,
  });
  if (build.status === 0) return;
  const failure = `building ${image} failed (exit ${build.status}):\n${build.stdout}\n${build.stderr}`;
  if (!exists) throw new Error(failure);
  console.warn(`[setup] using ${image} as it is: ${failure}`);
}

/** Ids of the sandbox containers labelled with `agentId`, running or not. */
export async function labelledContainers(agentId: string, docker: Docker = new Docker()): Promise<string[]> {
  const containers = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL_SANDBOX}=1`, `${LABEL_AGENT}=${agentId}`] },
  });
  return containers.map((info) => info.Id);
}

/** The image the Docker suites run (`ATOMIC_SANDBOX_IMAGE` or the default). */
export const TEST_IMAGE = process.env.ATOMIC_SANDBOX_IMAGE ?? "atomic-sandbox:latest";

/**
 * The runtime the Docker suites run under: `ATOMIC_SANDBOX_RUNTIME` (the host-agent's own variable,
 * so that end-to-end host-agents started by a suite inherit it), default `runc`. `.ci/run` runs the
 * sandbox suites a second time with `runsc` where gVisor works.
 */
export const TEST_RUNTIME: SandboxRuntime = testRuntime(process.env.ATOMIC_SANDBOX_RUNTIME);

function testRuntime(raw: string | undefined): SandboxRuntime {
  if (raw === undefined || raw === "") return "runc";
  const known = SANDBOX_RUNTIMES.find((runtime) => runtime === raw);
  if (known === undefined)
    throw new Error(`ATOMIC_SANDBOX_RUNTIME must be ${SANDBOX_RUNTIMES.join(" or ")} (got ${raw})`);
  return known;
}

/** stdout/stderr kept per run in the suites: small, so that flood tests stay cheap. */
export const TEST_OUTPUT_LIMIT = 16 * 1024;

const MIB = 1024 * 1024;

/**
 * Small defaults so that limit tests run on warm containers too (the pool is made with the
 * defaults) and finish fast; the timeout is per run and never keeps a run off the pool.
 */
export const TEST_POLICY: LimitPolicy = {
  defaults: {
    memory_bytes: 128 * MIB,
    cpu_millicores: 1000,
    disk_bytes: 8 * MIB,
    timeout_seconds: 10,
    max_processes: 48,
  },
  maxima: {
    memory_bytes: 512 * MIB,
    cpu_millicores: 2000,
    disk_bytes: 64 * MIB,
    timeout_seconds: 30,
    max_processes: 256,
  },
};

/** Every behaviour is checked on a warm container and on a cold one. */
export const SANDBOX_MODES = [
  { mode: `warm pool, ${TEST_RUNTIME}`, warm: 2 },
  { mode: `cold, ${TEST_RUNTIME}`, warm: 0 },
] as const;

/**
 * Gives the enclosing `describe` a started sandbox with `limits` (default {@link TEST_POLICY}) and a
 * fresh agent id, builds the image first if it is missing, and on teardown closes it and checks
 * that none of its containers is left.
 */
export function useSandbox(
  warm: number,
  limits: LimitPolicy = TEST_POLICY,
): { sandbox: () => DockerSandbox; agentId: string } {
  const agentId = `test-sandbox-${randomUUID().slice(0, 8)}`;
  let sandbox: DockerSandbox | undefined;
  beforeAll(async () => {
    await ensureSandboxImage(TEST_IMAGE);
    sandbox = await DockerSandbox.create({
      image: TEST_IMAGE,
      runtime: TEST_RUNTIME,
      warm,
      agentId,
      limits,
      outputLimitBytes: TEST_OUTPUT_LIMIT,
    });
    await sandbox.warmPoolReady();
  }, 300_000);
  afterAll(async () => {
    await sandbox?.close();
    expect(await labelledContainers(agentId)).toEqual([]);
  });
  return {
    agentId,
    sandbox: () => {
      if (sandbox === undefined) throw new Error("the sandbox is not started (beforeAll failed?)");
      return sandbox;
    },
  };
}
