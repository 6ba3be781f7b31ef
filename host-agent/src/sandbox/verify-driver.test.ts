// The verification driver's pure parts (host-agent/sandbox/verify.py), tested by its own unittest
// suite on the host's Python; what it does in the sandbox is docker-verify.test.ts's business.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const DRIVER_DIR = fileURLToPath(new URL("../../sandbox/", import.meta.url));

it("verify.py passes its unittest suite (test_verify.py)", () => {
  const run = spawnSync("python3", ["-B", "-m", "unittest", "discover", "-s", DRIVER_DIR, "-p", "test_verify.py"], {
    encoding: "utf8",
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
    timeout: 60_000,
  });
  expect(run.error).toBeUndefined();
  expect(run.stderr).toMatch(/\nOK\n$/);
  expect(run.status, run.stderr).toBe(0);
});
