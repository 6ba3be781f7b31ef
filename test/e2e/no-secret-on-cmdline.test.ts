// `npm start` and `npm run edge` start the edge through scripts/run-edge.ts: the agent token and the
// API keys must reach the Worker without appearing on any process's command line, which every
// local user can read (/proc/<pid>/cmdline, `ps`).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "../support/edge.ts";
import { until } from "../support/http.ts";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Every readable process command line on this machine, NULs as spaces. */
function commandLines(): Array<{ pid: string; cmdline: string }> {
  const lines: Array<{ pid: string; cmdline: string }> = [];
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      lines.push({ pid, cmdline: readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ") });
    } catch {
      // Gone since the listing, or not ours to read.
    }
  }
  return lines;
}

describe("secrets of the local edge", () => {
  const token = `tok-${randomBytes(18).toString("hex")}`;
  const apiKey = `key-${randomBytes(18).toString("hex")}`;
  const operatorKey = `op-${randomBytes(18).toString("hex")}`;
  const stateDir = mkdtempSync(join(tmpdir(), "atomic-secrets-"));
  let edge: ReturnType<typeof spawn> | undefined;

  afterAll(async () => {
    if (edge?.pid !== undefined && edge.exitCode === null) {
      const exited = new Promise((resolve) => edge?.once("exit", resolve));
      edge.kill("SIGTERM");
      await exited;
    }
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("reach the Worker through a 0600 file, never a command line, and the file goes with the edge", async () => {
    const port = await freePort();
    edge = spawn(process.execPath, [join(ROOT, "scripts", "edge.ts")], {
      cwd: ROOT,
      env: {
        ...process.env,
        ATOMIC_HOST: "127.0.0.1",
        ATOMIC_HTTP_PORT: String(port),
        ATOMIC_STATE_DIR: stateDir,
        ATOMIC_AGENT_TOKEN: token,
        ATOMIC_API_KEYS: apiKey,
        ATOMIC_OPERATOR_KEYS: operatorKey,
        ATOMIC_LOG_LEVEL: "WARN",
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    const pid = edge.pid;
    const url = `http://127.0.0.1:${port}`;
    const health = await until(
      () =>
        fetch(`${url}/health`, { headers: { authorization: `Bearer ${apiKey}` } }).then(
          async (res) => ({ status: res.status, body: await res.json() }),
          () => ({ status: 0, body: {} }),
        ),
      (res) => res.status === 200,
      90_000,
      250,
    );
    // The keys reached the Worker: it asks for them and takes them.
    expect(health.body).toMatchObject({ auth: "api_keys" });
    expect((await fetch(`${url}/api/status`)).status).toBe(401);
    expect((await fetch(`${url}/api/status`, { headers: { authorization: `Bearer ${apiKey}` } })).status).toBe(200);
    expect((await fetch(`${url}/api/status`, { headers: { authorization: `Bearer ${operatorKey}` } })).status).toBe(
      200,
    );

    const leaks = commandLines().filter(({ cmdline }) =>
      [token, apiKey, operatorKey].some((secret) => cmdline.includes(secret)),
    );
    expect(leaks).toEqual([]);

    const envFile = join(ROOT, ".atomic", `edge-${pid}.env`);
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(ROOT, ".atomic")).mode & 0o777).toBe(0o700);
    expect(readFileSync(envFile, "utf8")).toContain(`ATOMIC_AGENT_TOKEN='${token}'`);

    const exited = new Promise((resolve) => edge?.once("exit", resolve));
    edge.kill("SIGTERM");
    await exited;
    expect(existsSync(envFile)).toBe(false);
  }, 120_000);
});
