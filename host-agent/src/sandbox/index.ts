/** The Docker sandbox: what the rest of the host-agent uses. */
export { DockerSandbox, sandboxOptionsFromEnv } from "./docker-sandbox.ts";
