/**
 * Docker gating for tests that need the real engine. Without an engine the suite is skipped and
 * says why; with `ATOMIC_REQUIRE_DOCKER=1` (CI, a machine that must run them) a missing engine is a
 * failure instead, so the tests cannot silently stop running.
 *
 *   const docker = await dockerGate("sandbox");
 *   describe.skipIf(!docker.available)("sandbox", () => { ... });
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import Docker from "dockerode";
import { LABEL_AGENT, LABEL_SANDBOX } from "./container-spec.ts";
import { engineMessage, isNotFound } from "./engine-errors.ts";

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
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer in ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS).unref()),
    ]);
  } catch (error) {
    const where = process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock";
    reason = `Docker engine not reachable at ${where}: ${engineMessage(error)}`;
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
 * Makes sure `image` exists, building it with scripts/build-sandbox-image.sh when it does not
 * (about a minute offline). Throws with the script's output if the build fails. Give the calling
 * hook a long timeout.
 */
export async function ensureSandboxImage(image: string, docker: Docker = new Docker()): Promise<void> {
  try {
    await docker.getImage(image).inspect();
    return;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  console.warn(`[setup] image ${image} not found: building it with ${BUILD_SCRIPT}`);
  const build = spawnSync("bash", [BUILD_SCRIPT], {
    env: { ...process.env, ATOMIC_SANDBOX_IMAGE: image },
    encoding: "utf8",
    timeout: 600_000,
  });
  if (build.status !== 0) {
    throw new Error(`building ${image} failed (exit ${build.status}):\n${build.stdout}\n${build.stderr}`);
  }
}

/** Ids of the sandbox containers labelled with `agentId`, running or not. */
export async function labelledContainers(agentId: string, docker: Docker = new Docker()): Promise<string[]> {
  const containers = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL_SANDBOX}=1`, `${LABEL_AGENT}=${agentId}`] },
  });
  return containers.map((info) => info.Id);
}
