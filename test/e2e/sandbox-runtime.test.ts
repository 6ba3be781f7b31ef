// ATOMIC_SANDBOX_RUNTIME at start-up, through the real host-agent CLI: a runtime the engine does
// not list stops it with exit 2 and a line that says how to register it. The engine here is a
// stand-in on a Unix socket that answers `/_ping` and `/info` as a Docker engine without gVisor.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../support/edge.ts";

function runCli(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ["--max-semi-space-size=2", join(ROOT, "host-agent", "src", "cli.ts")], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  return new Promise((resolve) =>
    child.once("exit", (code) => {
      clearTimeout(killer);
      resolve({ code, stderr });
    }),
  );
}

describe("the sandbox runtime at host-agent start-up", () => {
  const dir = mkdtempSync(join(tmpdir(), "atomic-fake-engine-"));
  const socket = join(dir, "docker.sock");
  let engine: Server;

  beforeAll(async () => {
    engine = createServer((req, res) => {
      const path = (req.url ?? "").replace(/^\/v[\d.]+/, "").split("?")[0];
      res.setHeader("content-type", path === "/_ping" ? "text/plain" : "application/json");
      if (path === "/_ping") res.end("OK");
      else if (path === "/info") res.end(JSON.stringify({ NCPU: 2, Runtimes: { runc: { path: "runc" } } }));
      else {
        res.statusCode = 404;
        res.end(JSON.stringify({ message: "not here" }));
      }
    });
    await new Promise<void>((resolve) => engine.listen(socket, resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => engine.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const env = {
    DOCKER_HOST: `unix://${socket}`,
    ATOMIC_AGENT_TOKEN: "t",
    ATOMIC_EDGE_URL: "http://127.0.0.1:9",
    ATOMIC_IPC_SOCKET: join(dir, "no-llm.sock"),
    ATOMIC_LOG_LEVEL: "ERROR",
  };

  it("stops with exit 2 and says how to register runsc when the engine lacks it", async () => {
    const { code, stderr } = await runCli({ ...env, ATOMIC_SANDBOX_RUNTIME: "runsc" });
    expect(code).toBe(2);
    expect(stderr).toContain(
      `atomic-host-agent: invalid configuration: ATOMIC_SANDBOX_RUNTIME=runsc, but the Docker engine at unix://${socket} has no runtime "runsc" registered (it has: runc): install gVisor (Debian: apt-get install runsc), add it to /etc/docker/daemon.json as {"runtimes":{"runsc":{"path":"/usr/bin/runsc","runtimeArgs":["--network=none","--oci-seccomp"]}}}`,
    );
  }, 30_000);

  it("refuses a runtime it does not know before touching the engine", async () => {
    const { code, stderr } = await runCli({ ...env, ATOMIC_SANDBOX_RUNTIME: "kata" });
    expect(code).toBe(2);
    expect(stderr).toContain('ATOMIC_SANDBOX_RUNTIME must be runc or runsc (got "kata")');
  }, 30_000);
});
