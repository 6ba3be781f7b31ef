// The sandbox's walls against the real engine, on a warm container and on a cold one: time,
// memory, processes, network, file system, user and output are all bounded, and a run that hits a
// bound is reported as such.
import { describe, expect, it } from "vitest";
import type { ExecuteRequest, ExecuteResult } from "../../../shared/src/protocol/sandbox.ts";
import { dockerGate, SANDBOX_MODES, TEST_OUTPUT_LIMIT, TEST_POLICY, TEST_RUNTIME, useSandbox } from "./test-support.ts";

const docker = await dockerGate("host-agent/src/sandbox/isolation.test.ts");
const MIB = 1024 * 1024;
// Lists each folder from inside it: Debian's gVisor (2022) fails `ls <dir>` (statx of the argument) with EINVAL.
const LIST = 'for d in /tmp /workspace; do echo "$d:"; (cd "$d" && ls -A); done';

describe.skipIf(!docker.available).each(SANDBOX_MODES)("sandbox isolation ($mode)", ({ warm }) => {
  const { sandbox } = useSandbox(warm);
  const run = (request: ExecuteRequest): Promise<ExecuteResult> => sandbox().execute(request);

  it("kills an infinite loop at the timeout", async () => {
    const result = await run({ language: "python", code: "while True:\n    pass", limits: { timeout_seconds: 1 } });
    expect(result).toMatchObject({ timed_out: true, signal: "SIGKILL", exit_code: 137, oom_killed: false });
    expect(result.duration_ms).toBeGreaterThanOrEqual(1000);
    expect(result.duration_ms).toBeLessThan(2500);
  });

  it("kills a program that stops its own process group on time", async () => {
    const result = await run({
      language: "shell",
      code: "echo started; kill -STOP 0; echo never",
      limits: { timeout_seconds: 1 },
    });
    expect(result).toMatchObject({ timed_out: true, signal: "SIGKILL", stdout: "started\n" });
    expect(result.duration_ms).toBeLessThan(2500);
  });

  it("ends the run when the program exits, leaving no background process behind", async () => {
    // The last one leaves the program's session: the supervisor still ends it (supervisor.py).
    const result = await run({ language: "shell", code: "sleep 30 & sleep 30 & setsid sleep 30 & echo parent done" });
    expect(result).toMatchObject({ exit_code: 0, timed_out: false, stdout: "parent done\n" });
    expect(result.duration_ms).toBeLessThan(2000);
  });

  it("OOM-kills a memory bomb", async () => {
    const result = await run({
      language: "python",
      code: "chunks = []\nwhile True:\n    chunks.append(b'x' * 10_000_000)",
    });
    expect(result).toMatchObject({ oom_killed: true, signal: "SIGKILL", timed_out: false });
  });

  it("contains a fork bomb with the process limit, and the next run works", async () => {
    const forks = await run({
      language: "python",
      code: [
        "import os, time",
        "n = 0",
        "while True:",
        "    try:",
        "        pid = os.fork()",
        "    except OSError:",
        "        break",
        "    if pid == 0:",
        "        time.sleep(60)",
        "        os._exit(0)",
        "    n += 1",
        "print(n)",
      ].join("\n"),
    });
    if (TEST_RUNTIME === "runsc" && forks.exit_code === 137) {
      // Under gVisor the Sentry runs out of host tasks first and the whole sandbox is killed.
      expect(forks).toMatchObject({ signal: "SIGKILL", timed_out: false });
    } else {
      expect(forks.exit_code).toBe(0);
      expect(Number(forks.stdout)).toBeGreaterThan(0);
      expect(Number(forks.stdout)).toBeLessThan(TEST_POLICY.defaults.max_processes);
    }

    const bomb = await run({ language: "shell", code: "b() { b | b & }; b; sleep 1", limits: { timeout_seconds: 2 } });
    expect(bomb.duration_ms).toBeLessThan(3500);
    const after = await run({ language: "shell", code: "echo still fine" });
    expect(after).toMatchObject({ exit_code: 0, stdout: "still fine\n" });
  });

  it("has no network: only the loopback interface, nothing reachable", async () => {
    const result = await run({
      language: "python",
      code: [
        "import os, socket",
        "print(sorted(os.listdir('/sys/class/net')))",
        // 192.0.2.1 is TEST-NET-1 (documentation only); without a route the connect fails at once.
        "for host, port in (('127.0.0.1', 9), ('192.0.2.1', 80)):",
        "    s = socket.socket()",
        "    s.settimeout(2)",
        "    try:",
        "        s.connect((host, port))",
        "        print(host, 'connected')",
        "    except OSError as e:",
        "        print(host, type(e).__name__)",
      ].join("\n"),
    });
    expect(result.stdout).toBe("['lo']\n127.0.0.1 ConnectionRefusedError\n192.0.2.1 OSError\n");
  });

  it("keeps the root file system read-only", async () => {
    const result = await run({
      language: "python",
      code: [
        "import errno",
        "for path in ('/etc/x', '/usr/bin/x', '/x'):",
        "    try:",
        "        open(path, 'w')",
        "        print(path, 'written')",
        "    except OSError as e:",
        "        print(path, errno.errorcode[e.errno])",
      ].join("\n"),
    });
    // gVisor checks permissions before the mount's read-only flag: EACCES there, EROFS under runc.
    const refused = TEST_RUNTIME === "runsc" ? "EACCES" : "EROFS";
    expect(result.stdout).toBe(`/etc/x ${refused}\n/usr/bin/x ${refused}\n/x ${refused}\n`);
  });

  it("runs as a non-root uid of its own (10001 and up), gid 10001, with no capabilities", async () => {
    const result = await run({ language: "shell", code: "id -u; id -g; grep -E '^Cap(Eff|Prm):' /proc/self/status" });
    const [uid, ...rest] = result.stdout.split("\n");
    expect(Number(uid)).toBeGreaterThanOrEqual(10001);
    expect(Number(uid)).toBeLessThan(10001 + 64);
    expect(rest.join("\n")).toBe("10001\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n");
  });

  it("gives concurrent runs different uids, each with a name that whoami, Python and Node find", async () => {
    const code = [
      "id -u",
      "whoami",
      'python3 -c "import getpass, os, pwd; print(getpass.getuser()); print(pwd.getpwuid(os.getuid()).pw_dir)"',
      "node -e \"const u = require('os').userInfo(); console.log(u.username); console.log(u.uid)\"",
    ].join("\n");
    const results = await Promise.all([run({ language: "shell", code }), run({ language: "shell", code })]);
    const uids = results.map((result) => {
      expect(result, result.stderr).toMatchObject({ exit_code: 0, stderr: "" });
      const [uid, whoami, python, home, node, nodeUid] = result.stdout.trimEnd().split("\n");
      // users.sh: `sandbox` for 10001, `sandbox-n` for 10001 + n.
      const name = Number(uid) === 10001 ? "sandbox" : `sandbox-${Number(uid) - 10001}`;
      expect({ whoami, python, home, node, nodeUid }).toEqual({
        whoami: name,
        python: name,
        home: "/workspace",
        node: name,
        nodeUid: uid,
      });
      return Number(uid);
    });
    expect(uids[0]).not.toBe(uids[1]);
  });

  it("stops a disk fill at the disk limit, in /workspace and in /tmp", async () => {
    const result = await run({
      language: "python",
      code: [
        "import errno",
        "for path in ('/workspace/fill', '/tmp/fill'):",
        "    written = 0",
        "    try:",
        "        with open(path, 'wb') as f:",
        "            while True:",
        "                f.write(b'\\0' * 65536)",
        "                f.flush()",
        "                written += 65536",
        "    except OSError as e:",
        "        print(path, written, errno.errorcode[e.errno])",
      ].join("\n"),
      limits: { disk_bytes: 4 * MIB },
    });
    expect(result).toMatchObject({ exit_code: 0, timed_out: false });
    const lines = result.stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      const [, written, code] = line.split(" ");
      expect(Number(written)).toBeLessThanOrEqual(4 * MIB);
      expect(Number(written)).toBeGreaterThan(2 * MIB);
      expect(["ENOSPC", "EFBIG"]).toContain(code);
    }
  });

  it("truncates an output flood and keeps the result small", async () => {
    const result = await run({
      language: "python",
      code: "import sys\nwhile True:\n    sys.stdout.write('y' * 65536)",
    });
    expect(result.truncated).toBe(true);
    expect(result.stdout.length).toBeLessThanOrEqual(TEST_OUTPUT_LIMIT);
    expect(result.stdout).toBe("y".repeat(TEST_OUTPUT_LIMIT));
    expect(JSON.stringify(result).length).toBeLessThan(TEST_OUTPUT_LIMIT + 1024);
    expect(result.timed_out).toBe(false);
  });

  it("keeps the exit code of a program whose output is merely over the limit", async () => {
    const result = await run({
      language: "shell",
      code: "head -c 100000 /dev/zero | tr '\\0' a; echo done >&2; exit 4",
    });
    expect(result).toMatchObject({ exit_code: 4, truncated: true, stderr: "done\n" });
    expect(result.stdout).toBe("a".repeat(TEST_OUTPUT_LIMIT));
  });

  it("lets no file survive from one run to the next", async () => {
    const first = await run({
      language: "shell",
      code: `echo secret > /workspace/left; echo secret > /tmp/left; ${LIST}`,
    });
    expect(first.stdout).toBe("/tmp:\nleft\n/workspace:\nleft\nmain.sh\n");
    const second = await run({ language: "shell", code: LIST });
    expect(second.stdout).toBe("/tmp:\n/workspace:\nmain.sh\n");
  });

  it("does not believe a status line the program prints: only the supervisor knows the run's nonce", async () => {
    // The line's shape with nonces a program could make up, on both streams, before it goes on
    // and exits 7: the run is over only when the program is.
    const forged = "'%032x 0 0 0' % random.getrandbits(128)";
    const result = await run({
      language: "python",
      code: [
        "import random, sys, time",
        `lines = [${forged} for _ in range(3)] + ['0' * 32 + ' 0 0 0']`,
        "for line in lines:",
        "    print(line)",
        "    print(line, file=sys.stderr)",
        "time.sleep(0.3)",
        "print('after')",
        "sys.exit(7)",
      ].join("\n"),
    });
    expect(result).toMatchObject({ exit_code: 7, signal: null, timed_out: false });
    expect(result.stdout.split("\n").slice(3)).toEqual(["0".repeat(32) + " 0 0 0", "after", ""]);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(4);
  });

  it("keeps the supervisor out of the program's reach: its memory is closed and signals do not stop it", async () => {
    const result = await run({
      language: "shell",
      code: [
        // The nonce is in the supervisor's memory (PID 1): reading it is refused.
        "head -c 1 /proc/1/mem >/dev/null 2>&1 && echo read-memory",
        "for s in INT TERM HUP QUIT USR1 USR2 ALRM PIPE TSTP; do kill -$s 1; done",
        // Linux drops SIGKILL and SIGSTOP to PID 1 from inside its container; gVisor does not.
        ...(TEST_RUNTIME === "runc"
          ? ["kill -STOP 1; kill -KILL 1", "ls /proc/1/fd >/dev/null 2>&1 && echo listed-fds"]
          : []),
        "echo still here",
      ].join("\n"),
    });
    expect(result).toMatchObject({ exit_code: 0, stdout: "still here\n", timed_out: false });
  });
});
