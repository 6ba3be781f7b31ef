import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.ts";

const TOKEN = { ATOMIC_AGENT_TOKEN: "a-token" };

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe("the host-agent's configuration", () => {
  it("takes the documented defaults from an environment that sets only the token", () => {
    const config = loadConfig(TOKEN);
    expect(config).toMatchObject({
      ATOMIC_EDGE_URL: "http://localhost:8080",
      ATOMIC_POOL: "default",
      ATOMIC_AGENT_LABELS: {},
      ATOMIC_THREADS: 4,
      ATOMIC_LOG_LEVEL: "info",
      ATOMIC_SANDBOX: "auto",
      ATOMIC_SANDBOX_WARM: 2,
      ATOMIC_MEMORY_LIMIT_MB: 512,
    });
  });

  it("reads empty variables as unset, and numbers with spaces around them", () => {
    const config = loadConfig({
      ...TOKEN,
      ATOMIC_THREADS: "",
      ATOMIC_SANDBOX_WARM: " 0 ",
      ATOMIC_AGENT_LABELS: "gpu=a100, region=eu",
    });
    expect(config.ATOMIC_THREADS).toBe(4);
    expect(config.ATOMIC_SANDBOX_WARM).toBe(0);
    expect(config.ATOMIC_AGENT_LABELS).toEqual({ gpu: "a100", region: "eu" });
  });

  it.each([
    ["ATOMIC_THREADS", "1e3", "must be a whole number from 1 to 10000"],
    ["ATOMIC_THREADS", "0x10", "must be a whole number from 1 to 10000"],
    ["ATOMIC_THREADS", "2.5", "must be a whole number from 1 to 10000"],
    ["ATOMIC_THREADS", "-1", "must be a whole number from 1 to 10000"],
    ["ATOMIC_THREADS", "10001", "must be a whole number from 1 to 10000"],
    ["ATOMIC_MEMORY_LIMIT_MB", "lots", "must be a whole number from 16 to 1048576"],
    ["ATOMIC_SANDBOX_WARM", "33", "must be a whole number from 0 to 32"],
    ["ATOMIC_EDGE_URL", "ftp://x", "must be an http:// or https:// URL"],
    ["ATOMIC_EDGE_URL", "localhost:8080", "must be an http:// or https:// URL"],
    ["ATOMIC_POOL", "Big", "must be 1-63 of [a-z0-9-]"],
    ["ATOMIC_AGENT_LABELS", "gpu", "must be key=value pairs"],
    ["ATOMIC_AGENT_ID", "has space", "must be 1-64 of [A-Za-z0-9_.-]"],
    ["ATOMIC_LOG_LEVEL", "LOUD", "must be DEBUG, INFO, WARN, ERROR or SILENT"],
    ["ATOMIC_SANDBOX", "no", "must be auto or off"],
  ])("%s=%s: one line that names it and says what it takes", (name, value, allowed) => {
    const problems = problemsOf({ ...TOKEN, [name]: value });
    expect(problems).toHaveLength(1);
    const [line = ""] = problems;
    expect(line.startsWith(`${name} ${allowed}`), line).toBe(true);
    expect(line.endsWith(` (got ${JSON.stringify(value)})`), line).toBe(true);
  });

  it("refuses a default above its maximum, naming both variables", () => {
    expect(problemsOf({ ...TOKEN, ATOMIC_SANDBOX_TIMEOUT_SECONDS: "600" })).toEqual([
      'ATOMIC_SANDBOX_TIMEOUT_SECONDS must be at most ATOMIC_SANDBOX_MAX_TIMEOUT_SECONDS (300): raise the maximum or lower the default (got "600")',
    ]);
    expect(
      loadConfig({ ...TOKEN, ATOMIC_SANDBOX_TIMEOUT_SECONDS: "600", ATOMIC_SANDBOX_MAX_TIMEOUT_SECONDS: "600" }),
    ).toMatchObject({
      ATOMIC_SANDBOX_TIMEOUT_SECONDS: 600,
    });
  });

  it("names a missing token without echoing a token's value", () => {
    expect(problemsOf({})).toEqual([
      "ATOMIC_AGENT_TOKEN is required: the token the edge was given to admit host-agents",
    ]);
  });

  it("gives one line for each bad variable", () => {
    expect(
      problemsOf({ ATOMIC_THREADS: "zero", ATOMIC_EDGE_URL: "not a url" }).map((line) => line.split(" ")[0]),
    ).toEqual(["ATOMIC_EDGE_URL", "ATOMIC_AGENT_TOKEN", "ATOMIC_THREADS"]);
  });
});
