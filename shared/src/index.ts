export * from "./errors.ts";
export * from "./limits.ts";
export * from "./protocol/common.ts";
export * from "./protocol/sandbox.ts";
export * from "./protocol/api.ts";
export * from "./protocol/client-events.ts";
export * from "./protocol/agent-link.ts";
export * from "./protocol/link-timing.ts";
