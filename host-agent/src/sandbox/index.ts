/** The Docker sandbox: what the rest of the host-agent uses. */
export { DockerSandbox, sandboxOptionsFromEnv } from "./docker-sandbox.ts";
export type { DockerSandboxOptions, SandboxAvailability, SandboxStats } from "./docker-sandbox.ts";
export { SandboxError, SandboxLimitError } from "./errors.ts";
export type { SandboxErrorCode } from "./errors.ts";
export { SandboxEnv, limitPolicyFromEnv, resolveLimits } from "./limits.ts";
export type { LimitPolicy } from "./limits.ts";
export { LANGUAGES } from "./program.ts";
