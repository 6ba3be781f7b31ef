import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdge, type EdgeHandle } from "../support/edge.ts";
import { FakeAgent, SANDBOX_RESULT } from "../support/fake-agent.ts";
import { postJson } from "../support/http.ts";

let edge: EdgeHandle;
beforeAll(async () => {
  edge = await startEdge({ ATOMIC_AGENT_WAIT_MS: "600" });
});
afterAll(async () => edge?.dispose());

describe("POST /api/execute at the edge", () => {
  it("refuses an unknown language, a body without code, and an unknown limit with 400", async () => {
    const bad = await postJson(`${edge.url}/api/execute`, { language: "cobol", code: "x" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("language");
    const empty = await postJson(`${edge.url}/api/execute`, { language: "python" });
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toContain("code");
    const limit = await postJson(`${edge.url}/api/execute`, { language: "python", code: "1", limits: { gpu: 1 } });
    expect(limit.status).toBe(400);
    expect(limit.body.error.message).toContain("gpu");
  });

  it("refuses file names over their limits in UTF-8 bytes, or holding a NUL, with 400 naming the file", async () => {
    const execute = (path: string) =>
      postJson(`${edge.url}/api/execute`, {
        language: "python",
        files: [
          { path: "main.py", content: "print(1)" },
          { path, content: "x" },
        ],
      });
    // 129 characters, 257 bytes: tar could not create it.
    const long = `${"é".repeat(128)}a`;
    const tooLong = await execute(long);
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.message).toContain(`files.1.path: ${JSON.stringify(long)} is 257 bytes in UTF-8`);
    expect(tooLong.body.error.message).toContain("at most 256");
    const withNul = await execute("a\u0000b.py");
    expect(withNul.status).toBe(400);
    expect(withNul.body.error.message).toContain('files.1.path: "a\\u0000b.py" contains a NUL character');
    // One name between slashes is limited to 255 bytes, as the file system limits it.
    const longName = await execute("b".repeat(256));
    expect(longName.status).toBe(400);
    expect(longName.body.error.message).toContain("a name of 256 bytes");
    const entrypoint = await postJson(`${edge.url}/api/execute`, {
      language: "python",
      files: [{ path: "main.py", content: "print(1)" }],
      entrypoint: "m\u0000ain.py",
    });
    expect(entrypoint.status).toBe(400);
    expect(entrypoint.body.error.message).toContain("entrypoint: ");
    // 256 bytes in two names is within the limits: the run goes on to look for a sandbox (none is linked yet).
    expect((await execute(`${"é".repeat(126)}/abc`)).status).toBe(503);
  });

  it("answers 503 when no host-agent with Docker takes the run", async () => {
    const res = await postJson(`${edge.url}/api/execute`, { language: "python", code: "print(1+1)" });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe("sandbox_unavailable");
  });

  it("places a sandbox.execute job on an agent with Docker and returns its result", async () => {
    const agent = await FakeAgent.link(edge, { id: "sandbox-host", kinds: ["sandbox.execute"], docker: true });
    const pending = postJson(`${edge.url}/api/execute`, {
      language: "python",
      code: "print(1+1)",
      limits: { timeout_seconds: 5 },
    });
    const job = await agent.nextJob("sandbox.execute");
    expect(job.payload).toMatchObject({ language: "python", code: "print(1+1)", limits: { timeout_seconds: 5 } });
    expect(job.pipeline_id).toBeNull();
    agent.result(job, 0, SANDBOX_RESULT);
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, ...SANDBOX_RESULT });
    const refused = postJson(`${edge.url}/api/execute`, {
      language: "python",
      code: "1",
      limits: { memory_bytes: 1e12 },
    });
    agent.fail(
      await agent.nextJob("sandbox.execute"),
      "invalid_request",
      "memory_bytes 1000000000000 is above the host's maximum of 2147483648",
      false,
    );
    const answer = await refused;
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toContain("memory_bytes");
    agent.close();
  });
});
