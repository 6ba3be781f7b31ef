import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LIMITS } from "../../shared/src/index.ts";
import { dockerGate, ensureSandboxImage, TEST_IMAGE } from "../../host-agent/src/sandbox/test-support.ts";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { getJson, postJson, until } from "../support/http.ts";
import { removeDir, startHostAgent, startPythonAgent, waitForAgents, type Proc } from "../support/processes.ts";

const docker = await dockerGate("test/e2e/sandbox-output.test.ts");

/** The host's default output limit, and the same raised to 1 MiB. */
const KIB64 = 65_536;
const MIB = 1_048_576;

/** A program that writes one kind of text to stdout and to stderr, `bytes` of each (or just under). */
interface Flood {
  name: string;
  request: (bytes: number) => Record<string, unknown>;
  /** What the program writes to each stream. */
  written: (bytes: number) => { stdout: string; stderr: string };
}

const ANSI = "\x1b[31m\x1b[0m";

const FLOODS: Flood[] = [
  {
    // Each NUL is six bytes as JSON (\u0000): 64 KiB of them on each stream is a 786 KB frame.
    name: "NUL bytes",
    request: (bytes) => ({ language: "shell", code: `head -c ${bytes} /dev/zero; head -c ${bytes} /dev/zero >&2` }),
    written: (bytes) => ({ stdout: "\0".repeat(bytes), stderr: "\0".repeat(bytes) }),
  },
  {
    // Colour on, colour off: each ESC is six bytes as JSON.
    name: "ANSI escapes",
    request: (bytes) => ({
      language: "python",
      code: `import sys\nu = "\\x1b[31m\\x1b[0m"\nsys.stdout.write(u * (${bytes} // len(u)))\nsys.stdout.flush()\nsys.stderr.write(u * (${bytes} // len(u)))`,
    }),
    written: (bytes) => ({
      stdout: ANSI.repeat(Math.floor(bytes / ANSI.length)),
      stderr: ANSI.repeat(Math.floor(bytes / ANSI.length)),
    }),
  },
  {
    // Two-byte and four-byte characters.
    name: "multi-byte text",
    request: (bytes) => ({
      language: "python",
      code: `import sys\nsys.stdout.write("é" * (${bytes} // 2))\nsys.stdout.flush()\nsys.stderr.write("🙂" * (${bytes} // 4))`,
    }),
    written: (bytes) => ({ stdout: "é".repeat(bytes / 2), stderr: "🙂".repeat(bytes / 4) }),
  },
];

/** UTF-8 bytes of a string written as JSON. */
function jsonBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text));
}

/**
 * Output as large as the host keeps, in characters that grow when written as JSON, must come back
 * as an answer (cut to fit one agent-link frame and flagged `truncated`), never hold the job, its
 * slot at the scheduler, or the host-agent's link.
 */
describe.skipIf(!docker.available)("sandbox output that grows as JSON", () => {
  let edge: EdgeHandle;
  let python: Awaited<ReturnType<typeof startPythonAgent>>;

  beforeAll(async () => {
    await ensureSandboxImage(TEST_IMAGE);
    edge = await startEdge({ ATOMIC_AGENT_WAIT_MS: "15000" });
    python = await startPythonAgent();
  }, 180_000);

  afterAll(async () => {
    python?.proc.kill();
    await python?.proc.exited;
    await edge?.dispose();
    if (python) removeDir(python.dir);
  });

  for (const limit of [KIB64, MIB]) {
    describe(`with ATOMIC_SANDBOX_OUTPUT_LIMIT_BYTES=${limit}`, () => {
      let agent: Proc;

      beforeAll(async () => {
        agent = startHostAgent(edge, {
          ATOMIC_AGENT_ID: `e2e-output-${limit}-${process.pid}`,
          ATOMIC_IPC_SOCKET: python.socket,
          ATOMIC_SANDBOX_OUTPUT_LIMIT_BYTES: String(limit),
        });
        await waitForAgents(edge, 1);
        await until(
          () => getJson(`${edge.url}/health`),
          (r) => r.body.docker === "available",
          20_000,
        );
      }, 60_000);

      afterAll(async () => {
        agent?.kill();
        await agent?.exited;
      });

      for (const flood of FLOODS) {
        it(`answers ${flood.name} on both streams, cut to fit one frame when it must`, async () => {
          const written = flood.written(limit);
          const res = await postJson(`${edge.url}/api/execute`, flood.request(limit));
          expect(res.status, JSON.stringify(res.body).slice(0, 500)).toBe(200);
          const { stdout, stderr, truncated, exit_code } = res.body;
          expect(exit_code).toBe(0);
          // The envelope and the other fields of the result take well under a kilobyte.
          const fits = jsonBytes(written.stdout) + jsonBytes(written.stderr) + 1024 <= LIMITS.agentFrameMaxBytes;
          if (fits) {
            expect({ stdout, stderr, truncated }).toEqual({ ...written, truncated: false });
            return;
          }
          expect(truncated).toBe(true);
          expect(written.stdout.startsWith(stdout), "stdout is a start of what was written").toBe(true);
          expect(written.stderr.startsWith(stderr), "stderr is a start of what was written").toBe(true);
          expect(jsonBytes(stdout) + jsonBytes(stderr)).toBeLessThanOrEqual(LIMITS.agentFrameMaxBytes);
          // Both streams were cut to about half the frame each: neither crowds the other out.
          for (const kept of [stdout, stderr]) {
            expect(jsonBytes(kept)).toBeGreaterThan(LIMITS.agentFrameMaxBytes / 2 - 1024);
          }
        });
      }

      it("holds no job afterwards, and runs the next execution and a generate pipeline", async () => {
        const running = await until(
          () => getJson(`${edge.url}/api/status`),
          (r) => r.body.agents.every((a: { running: number }) => a.running === 0),
          10_000,
        );
        expect(running.body.active_pipelines).toBe(0);
        const next = await postJson(`${edge.url}/api/execute`, { language: "python", code: "print(1+1)" });
        expect(next.status, JSON.stringify(next.body)).toBe(200);
        expect(next.body).toMatchObject({ stdout: "2\n", truncated: false });
        const pipeline = await postJson(`${edge.url}/api/generate`, { prompt: "Hello World in Python" });
        expect(pipeline.status, JSON.stringify(pipeline.body).slice(0, 500)).toBe(200);
        expect(pipeline.body.success).toBe(true);
      });
    });
  }
});
