import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { unstable_DevEnv } from "wrangler";
import { z } from "zod";
import { devServerEnvironment } from "../../scripts/dev-server-environment.ts";

/** The environment before the dev server's settings below: what another commit's bench is given. */
export const ENVIRONMENT_AS_GIVEN: Readonly<NodeJS.ProcessEnv> = { ...process.env };
// As `npm start` runs it (wrangler runs in this process and reads these from its environment).
Object.assign(process.env, devServerEnvironment(process.env));

export const ROOT = resolve(import.meta.dirname, "../..");

/** The part of wrangler's `reloadComplete` event that says where the Worker listens. */
const ReloadComplete = z.object({
  proxyData: z.object({ userWorkerUrl: z.object({ protocol: z.string(), hostname: z.string(), port: z.string() }) }),
});

export interface EdgeHandle {
  /** `http://127.0.0.1:PORT` with no trailing slash. */
  url: string;
  /**
   * The Worker's own address, behind wrangler's dev proxy. The proxy fetches the Worker
   * detached from its client's connection, so only a client of this address is seen to leave.
   */
  workerUrl: string;
  wsUrl: string;
  token: string;
  dispose(): Promise<void>;
}

/**
 * Starts the real Worker in workerd (wrangler's dev server) with `vars` over wrangler.toml's,
 * on a free port, with its own fresh local state unless `persistDir` names one to keep.
 */
export async function startEdge(
  vars: Record<string, string> = {},
  persistDir?: string,
  port = 0,
  inspectorPort?: number,
): Promise<EdgeHandle> {
  const token = vars["ATOMIC_AGENT_TOKEN"] ?? `test-token-${Math.random().toString(36).slice(2)}`;
  const stateDir = persistDir ?? mkdtempSync(join(tmpdir(), "atomic-edge-"));
  const bindings: Record<string, { type: "plain_text"; value: string }> = {};
  for (const [name, value] of Object.entries({ ATOMIC_LOG_LEVEL: "WARN", ...vars, ATOMIC_AGENT_TOKEN: token })) {
    bindings[name] = { type: "plain_text", value };
  }
  // unstable_startWorker, with the reload event that says where the Worker itself listens.
  const devEnv = new unstable_DevEnv();
  let workerUrl: string | null = null;
  devEnv.on("reloadComplete", (event: unknown) => {
    const reloaded = ReloadComplete.safeParse(event);
    if (!reloaded.success) return;
    const { protocol, hostname, port: workerPort } = reloaded.data.proxyData.userWorkerUrl;
    workerUrl = `${protocol}//${hostname}:${workerPort}`;
  });
  const worker = await devEnv.startWorker({
    config: join(ROOT, "wrangler.toml"),
    bindings,
    dev: {
      server: { hostname: "127.0.0.1", port },
      inspector: inspectorPort === undefined ? false : { port: inspectorPort },
      persist: stateDir,
      logLevel: "error",
      // A file saved while tests run would rebuild and reload the Worker, dropping every socket.
      watch: false,
    },
  });
  await worker.ready;
  const url = (await worker.url).origin;
  // The event follows `ready` closely on an idle machine; a loaded one (CI, tests in parallel) can take a while.
  const deadline = Date.now() + 45_000;
  while (workerUrl === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  if (workerUrl === null) throw new Error("wrangler never said where the Worker listens");
  return {
    url,
    workerUrl,
    wsUrl: url.replace(/^http/, "ws"),
    token,
    async dispose() {
      await worker.dispose();
      if (persistDir === undefined) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** A port nothing listens on right now, for an edge that must come back at the same address. */
export async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}
