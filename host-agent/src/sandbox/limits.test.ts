import { describe, expect, it } from "vitest";
import { SandboxError, SandboxLimitError } from "./errors.ts";
import { limitPolicyFromEnv, resolveLimits, SandboxEnv } from "./limits.ts";

const MIB = 1024 * 1024;

describe("sandbox limits", () => {
  const policy = limitPolicyFromEnv(SandboxEnv.parse({}));

  it("gives the documented defaults when no variable is set", () => {
    expect(policy.defaults).toEqual({
      memory_bytes: 512 * MIB,
      cpu_millicores: 1000,
      disk_bytes: 64 * MIB,
      timeout_seconds: 30,
      max_processes: 100,
    });
    expect(policy.maxima).toEqual({
      memory_bytes: 2048 * MIB,
      cpu_millicores: 4000,
      disk_bytes: 512 * MIB,
      timeout_seconds: 300,
      max_processes: 1024,
    });
  });

  it("reads the seed's variable names, treating empty values as unset", () => {
    const env = SandboxEnv.parse({
      ATOMIC_MEMORY_LIMIT_MB: "256",
      ATOMIC_SANDBOX_TIMEOUT_SECONDS: "5",
      ATOMIC_SANDBOX_MAX_PROCESSES: "",
      ATOMIC_SANDBOX_MAX_MEMORY_MB: "1024",
      ATOMIC_SANDBOX_WARM: "0",
    });
    const custom = limitPolicyFromEnv(env);
    expect(custom.defaults.memory_bytes).toBe(256 * MIB);
    expect(custom.defaults.timeout_seconds).toBe(5);
    expect(custom.defaults.max_processes).toBe(100);
    expect(custom.maxima.memory_bytes).toBe(1024 * MIB);
    expect(env.ATOMIC_SANDBOX_WARM).toBe(0);
  });

  it("refuses a variable that is not a whole number, naming it", () => {
    const parsed = SandboxEnv.safeParse({ ATOMIC_SANDBOX_CPU_MILLICORES: "lots" });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(["ATOMIC_SANDBOX_CPU_MILLICORES"]);
  });

  it("refuses a default above its maximum at start-up, naming both variables", () => {
    const env = SandboxEnv.parse({ ATOMIC_SANDBOX_TIMEOUT_SECONDS: "600" });
    expect(() => limitPolicyFromEnv(env)).toThrow(
      /ATOMIC_SANDBOX_TIMEOUT_SECONDS=600 is above ATOMIC_SANDBOX_MAX_TIMEOUT_SECONDS=300/,
    );
  });

  it("can be merged into a larger config schema", () => {
    expect(Object.keys(SandboxEnv.shape)).toContain("ATOMIC_SANDBOX_IMAGE");
  });

  it("fills what a request leaves out with the defaults and lets it lower any limit", () => {
    expect(resolveLimits(undefined, policy)).toEqual(policy.defaults);
    const lowered = resolveLimits({ memory_bytes: 64 * MIB, timeout_seconds: 0.5 }, policy);
    expect(lowered).toEqual({ ...policy.defaults, memory_bytes: 64 * MIB, timeout_seconds: 0.5 });
  });

  it("lets a request raise a limit up to the maximum, and no further", () => {
    expect(resolveLimits({ timeout_seconds: 300 }, policy).timeout_seconds).toBe(300);
    let caught: unknown;
    try {
      resolveLimits({ cpu_millicores: 500, max_processes: 5000 }, policy);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SandboxLimitError);
    expect(caught).toBeInstanceOf(SandboxError);
    expect(caught).toMatchObject({ code: "invalid_request", limit: "max_processes", requested: 5000, maximum: 1024 });
    expect(String(caught)).toContain("limits.max_processes = 5000 is above this host's maximum of 1024");
  });
});
