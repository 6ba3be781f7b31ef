// The uids runs get (identities.ts) and the users the image names for them
// (host-agent/sandbox/users.sh): the same range, every uid of it with an entry, and no uid handed
// out past it. The sandbox suites check the names inside real containers.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { SANDBOX_UID, SANDBOX_UID_COUNT } from "./container-spec.ts";
import { SandboxError } from "./errors.ts";
import { UidSlots } from "./identities.ts";

const USERS_SCRIPT = fileURLToPath(new URL("../../sandbox/users.sh", import.meta.url));
const DOCKERFILE = fileURLToPath(new URL("../../sandbox/Dockerfile", import.meta.url));
const BUILD_SCRIPT = fileURLToPath(new URL("../../../scripts/build-sandbox-image.sh", import.meta.url));

/** Whether `promise` has settled by the time pending callbacks have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe("uid slots", () => {
  it("hands out the smallest free uid from 10001 and takes them back", async () => {
    const slots = new UidSlots();
    expect([await slots.take(), await slots.take(), await slots.take()]).toEqual([10001, 10002, 10003]);
    slots.release(10002);
    expect(await slots.take()).toBe(10002);
    expect(slots.size).toBe(3);
  });

  it("never hands out a uid past the image's range: with every uid held, a take waits for one to be given back", async () => {
    const slots = new UidSlots();
    const taken = [];
    for (let i = 0; i < SANDBOX_UID_COUNT; i += 1) taken.push(await slots.take());
    expect(taken.at(-1)).toBe(SANDBOX_UID + SANDBOX_UID_COUNT - 1);
    expect(slots.full).toBe(true);

    const first = slots.take();
    const second = slots.take();
    expect(await settled(first)).toBe(false);
    slots.release(10500);
    expect(await first).toBe(10500);
    expect(await settled(second)).toBe(false);
    slots.release(10007);
    expect(await second).toBe(10007);
    expect(slots.size).toBe(SANDBOX_UID_COUNT);
    // Given back with nobody waiting: free again, and the smallest free one is handed out next.
    slots.release(10009);
    slots.release(10003);
    expect(slots.full).toBe(false);
    expect(await slots.take()).toBe(10003);
  });

  it("gives up waiting when the run is cancelled, and the uid goes to the next in line", async () => {
    const slots = new UidSlots(20_000, 1);
    expect(await slots.take()).toBe(20_000);
    const abort = new AbortController();
    const cancelled = slots.take(abort.signal);
    const next = slots.take();
    abort.abort();
    const error: unknown = await cancelled.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SandboxError);
    expect(error).toMatchObject({ code: "cancelled" });
    slots.release(20_000);
    expect(await next).toBe(20_000);
    await expect(slots.take(abort.signal)).rejects.toMatchObject({ code: "cancelled" });
    expect(slots.size).toBe(1);
  });

  it("ignores a uid given back twice", async () => {
    const slots = new UidSlots(20_000, 1);
    await slots.take();
    slots.release(20_000);
    const held = await slots.take();
    const waiting = slots.take();
    slots.release(30_000);
    expect(await settled(waiting)).toBe(false);
    slots.release(held);
    expect(await waiting).toBe(20_000);
  });
});

describe("the image's users (host-agent/sandbox/users.sh)", () => {
  let root: string | undefined;
  afterEach(() => {
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
    root = undefined;
  });

  /** A root with the base image's account files, before users.sh. */
  function baseRoot(): string {
    root = mkdtempSync(join(tmpdir(), "atomic-users-"));
    mkdirSync(join(root, "etc"));
    writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534::/:/sbin/nologin\n");
    writeFileSync(join(root, "etc/group"), "root:x:0:\nnogroup:x:65534:\n");
    writeFileSync(join(root, "etc/shadow"), "root:*:19000:0:99999:7:::\n");
    writeFileSync(join(root, "etc/gshadow"), "root:*::\n");
    return root;
  }
  const addUsers = (dir: string) => spawnSync("sh", [USERS_SCRIPT, dir], { encoding: "utf8", timeout: 10_000 });

  it("covers the range the host-agent hands out, no more and no less", () => {
    const script = readFileSync(USERS_SCRIPT, "utf8");
    expect(script).toMatch(new RegExp(`^FIRST_UID=${SANDBOX_UID}$`, "m"));
    expect(script).toMatch(new RegExp(`^UID_COUNT=${SANDBOX_UID_COUNT}$`, "m"));
  });

  it("names every uid of the range, gid 10001, home /workspace, no login shell, no password", () => {
    const dir = baseRoot();
    const run = addUsers(dir);
    expect(run.status, run.stderr).toBe(0);
    const passwd = readFileSync(join(dir, "etc/passwd"), "utf8").trimEnd().split("\n");
    expect(passwd.slice(0, 2)).toEqual(["root:x:0:0:root:/root:/bin/bash", "nobody:x:65534:65534::/:/sbin/nologin"]);
    const added = passwd.slice(2).map((line) => line.split(":"));
    expect(added).toHaveLength(SANDBOX_UID_COUNT);
    expect(added.map((fields) => Number(fields[2]))).toEqual(
      Array.from({ length: SANDBOX_UID_COUNT }, (_, i) => SANDBOX_UID + i),
    );
    expect(added[0]).toEqual(["sandbox", "x", "10001", "10001", "sandbox", "/workspace", "/usr/sbin/nologin"]);
    expect(added.at(-1)).toEqual([
      `sandbox-${SANDBOX_UID_COUNT - 1}`,
      "x",
      String(SANDBOX_UID + SANDBOX_UID_COUNT - 1),
      "10001",
      `sandbox-${SANDBOX_UID_COUNT - 1}`,
      "/workspace",
      "/usr/sbin/nologin",
    ]);
    const names = added.map((fields) => fields[0]);
    expect(new Set(names).size).toBe(SANDBOX_UID_COUNT);
    for (const fields of added)
      expect(fields.slice(3).join(":")).toMatch(/^10001:[^:]+:\/workspace:\/usr\/sbin\/nologin$/);

    expect(readFileSync(join(dir, "etc/group"), "utf8")).toBe("root:x:0:\nnogroup:x:65534:\nsandbox:x:10001:\n");
    expect(readFileSync(join(dir, "etc/gshadow"), "utf8")).toBe("root:*::\nsandbox:!::\n");
    const shadow = readFileSync(join(dir, "etc/shadow"), "utf8").trimEnd().split("\n").slice(1);
    expect(shadow.map((line) => line.split(":")[0])).toEqual(names);
    for (const line of shadow) expect(line.split(":")[1]).toBe("*");
  });

  it("refuses a root that already has a uid of the range", () => {
    const dir = baseRoot();
    expect(addUsers(dir).status).toBe(0);
    const again = addUsers(dir);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain("already has uid 10001 (sandbox)");
  });

  it("is what both ways of building the image run, and part of the recipe hash", () => {
    expect(readFileSync(DOCKERFILE, "utf8")).toMatch(/^COPY users\.sh \/tmp\/users\.sh\nRUN sh \/tmp\/users\.sh \/ /m);
    const build = readFileSync(BUILD_SCRIPT, "utf8");
    expect(build).toMatch(/^RECIPE_FILES=\([^)]*\n {2}host-agent\/sandbox\/users\.sh\n[^)]*\)/m);
    expect(build).toContain('cp "$DOCKERFILE_DIR/Dockerfile" "$DOCKERFILE_DIR/verify.py" "$DOCKERFILE_DIR/users.sh"');
    expect(build).toContain('sh "$DOCKERFILE_DIR/users.sh" "$rootfs"');
  });
});
