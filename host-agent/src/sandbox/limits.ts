import { z } from "zod";
import type { ResourceLimits } from "../../../shared/src/protocol/sandbox.ts";
import { envInt, envSetting } from "../env-setting.ts";
import { SANDBOX_RUNTIMES } from "./container-spec.ts";
import { SandboxLimitError } from "./errors.ts";

const MIB = 1024 * 1024;

/** Host defaults (what a request gets when it names no limit) and maxima (the most it may ask for). */
export interface LimitPolicy {
  defaults: ResourceLimits;
  maxima: ResourceLimits;
}

/**
 * The sandbox's environment variables, parsed once at start-up. A plain object schema so the
 * host-agent's `config.ts` can merge it (`z.object({...SandboxEnv.shape, ...})`); the check that
 * every default is within its maximum is {@link defaultsAboveMaxima}, which `config.ts` runs on the
 * whole environment and {@link limitPolicyFromEnv} runs again for callers that skip it.
 *
 * `ATOMIC_MEMORY_LIMIT_MB` and `ATOMIC_SANDBOX_MAX_PROCESSES` keep the seed's names and meanings
 * (the default memory and process limits), which is why the process ceiling is
 * `ATOMIC_SANDBOX_MAX_PROCESSES_CEILING` rather than `ATOMIC_SANDBOX_MAX_*`.
 */
export const SandboxEnv = z.object({
  ATOMIC_SANDBOX_IMAGE: envSetting(
    { meaning: "the sandbox image (`npm run sandbox:image` builds it)", fallback: "atomic-sandbox:latest" },
    z.string(),
  ),
  ATOMIC_SANDBOX_RUNTIME: envSetting(
    {
      meaning:
        "runc, or runsc to run every sandbox container under gVisor (it must be registered with the Docker engine: see the README)",
      fallback: "runc",
    },
    z.enum(SANDBOX_RUNTIMES, { error: `must be ${SANDBOX_RUNTIMES.join(" or ")}` }),
  ),
  ATOMIC_SANDBOX_WARM: envInt("pre-started single-use containers kept ready; 0: every run starts cold", 2, 0, 32),
  ATOMIC_SANDBOX_OUTPUT_LIMIT_BYTES: envInt(
    "bytes of stdout and of stderr kept per run; the rest is dropped and `truncated` set",
    65_536,
    1024,
    16 * MIB,
  ),
  ATOMIC_MEMORY_LIMIT_MB: envInt("memory of a run that asks for no limit, MiB", 512, 16, 1_048_576),
  ATOMIC_SANDBOX_CPU_MILLICORES: envInt(
    "CPU of a run that asks for no limit, thousandths of a core",
    1000,
    10,
    1_024_000,
  ),
  // tmpfs pages are charged to the container's memory, so the disk default stays well under it.
  ATOMIC_SANDBOX_DISK_MB: envInt("writable scratch space of a run that asks for no limit, MiB", 64, 1, 1_048_576),
  ATOMIC_SANDBOX_TIMEOUT_SECONDS: envInt("wall-clock limit of a run that asks for no limit, seconds", 30, 1, 86_400),
  ATOMIC_SANDBOX_MAX_PROCESSES: envInt("processes of a run that asks for no limit", 100, 1, 1_000_000),
  ATOMIC_SANDBOX_MAX_MEMORY_MB: envInt("the most memory a run may ask for, MiB", 2048, 16, 1_048_576),
  ATOMIC_SANDBOX_MAX_CPU_MILLICORES: envInt(
    "the most CPU a run may ask for, thousandths of a core",
    4000,
    10,
    1_024_000,
  ),
  ATOMIC_SANDBOX_MAX_DISK_MB: envInt("the most scratch space a run may ask for, MiB", 512, 1, 1_048_576),
  ATOMIC_SANDBOX_MAX_TIMEOUT_SECONDS: envInt("the longest wall-clock limit a run may ask for, seconds", 300, 1, 86_400),
  ATOMIC_SANDBOX_MAX_PROCESSES_CEILING: envInt("the most processes a run may ask for", 1024, 1, 1_000_000),
});
export type SandboxEnv = z.infer<typeof SandboxEnv>;

/** The variables that hold a number. */
type NumericSetting = { [K in keyof SandboxEnv]: SandboxEnv[K] extends number ? K : never }[keyof SandboxEnv];

/** Which variable sets the default and the maximum of each limit, for error messages. */
const LIMIT_VARIABLES: Record<keyof ResourceLimits, { fallback: NumericSetting; ceiling: NumericSetting }> = {
  memory_bytes: { fallback: "ATOMIC_MEMORY_LIMIT_MB", ceiling: "ATOMIC_SANDBOX_MAX_MEMORY_MB" },
  cpu_millicores: { fallback: "ATOMIC_SANDBOX_CPU_MILLICORES", ceiling: "ATOMIC_SANDBOX_MAX_CPU_MILLICORES" },
  disk_bytes: { fallback: "ATOMIC_SANDBOX_DISK_MB", ceiling: "ATOMIC_SANDBOX_MAX_DISK_MB" },
  timeout_seconds: { fallback: "ATOMIC_SANDBOX_TIMEOUT_SECONDS", ceiling: "ATOMIC_SANDBOX_MAX_TIMEOUT_SECONDS" },
  max_processes: { fallback: "ATOMIC_SANDBOX_MAX_PROCESSES", ceiling: "ATOMIC_SANDBOX_MAX_PROCESSES_CEILING" },
};

const LIMIT_NAMES = Object.keys(LIMIT_VARIABLES) as Array<keyof ResourceLimits>;

/** A default set above the maximum of the same limit. */
export interface DefaultAboveMaximum {
  fallback: NumericSetting;
  ceiling: NumericSetting;
  value: number;
  maximum: number;
}

/**
 * Every limit whose default is above its maximum: such a host would refuse the runs that ask for
 * nothing, so it must not start.
 */
export function defaultsAboveMaxima(env: SandboxEnv): DefaultAboveMaximum[] {
  const problems: DefaultAboveMaximum[] = [];
  for (const name of LIMIT_NAMES) {
    const { fallback, ceiling } = LIMIT_VARIABLES[name];
    const value = env[fallback];
    const maximum = env[ceiling];
    if (value > maximum) problems.push({ fallback, ceiling, value, maximum });
  }
  return problems;
}

/**
 * The limit policy a parsed {@link SandboxEnv} describes. Throws an Error naming both variables
 * when a default is above its maximum, so a misconfigured host fails at start-up, not per run.
 */
export function limitPolicyFromEnv(env: SandboxEnv): LimitPolicy {
  const policy: LimitPolicy = {
    defaults: {
      memory_bytes: env.ATOMIC_MEMORY_LIMIT_MB * MIB,
      cpu_millicores: env.ATOMIC_SANDBOX_CPU_MILLICORES,
      disk_bytes: env.ATOMIC_SANDBOX_DISK_MB * MIB,
      timeout_seconds: env.ATOMIC_SANDBOX_TIMEOUT_SECONDS,
      max_processes: env.ATOMIC_SANDBOX_MAX_PROCESSES,
    },
    maxima: {
      memory_bytes: env.ATOMIC_SANDBOX_MAX_MEMORY_MB * MIB,
      cpu_millicores: env.ATOMIC_SANDBOX_MAX_CPU_MILLICORES,
      disk_bytes: env.ATOMIC_SANDBOX_MAX_DISK_MB * MIB,
      timeout_seconds: env.ATOMIC_SANDBOX_MAX_TIMEOUT_SECONDS,
      max_processes: env.ATOMIC_SANDBOX_MAX_PROCESSES_CEILING,
    },
  };
  const [problem] = defaultsAboveMaxima(env);
  if (problem !== undefined) {
    const { fallback, ceiling, value, maximum } = problem;
    throw new Error(`${fallback}=${value} is above ${ceiling}=${maximum}: raise the maximum or lower the default`);
  }
  return policy;
}

/**
 * The limits one run gets: each limit the request names, else the host default. A request may
 * lower any limit; raising one above the host maximum throws {@link SandboxLimitError} naming the
 * limit and the maximum. (Minimums are the wire schema's job: `ResourceLimits` refuses a 1-byte
 * memory limit before it gets here.)
 */
export function resolveLimits(requested: Partial<ResourceLimits> | undefined, policy: LimitPolicy): ResourceLimits {
  const resolved: ResourceLimits = { ...policy.defaults };
  for (const name of LIMIT_NAMES) {
    const value = requested?.[name];
    if (value === undefined) continue;
    if (value > policy.maxima[name]) throw new SandboxLimitError(name, value, policy.maxima[name]);
    resolved[name] = value;
  }
  return resolved;
}

/** Whether a container created for limits `a` can serve a run resolved to `b` (the warm pool's test). */
export function sameContainerLimits(a: ResourceLimits, b: ResourceLimits): boolean {
  // The timeout is enforced from the host per run, so it does not matter here.
  return (
    a.memory_bytes === b.memory_bytes &&
    a.cpu_millicores === b.cpu_millicores &&
    a.disk_bytes === b.disk_bytes &&
    a.max_processes === b.max_processes
  );
}
