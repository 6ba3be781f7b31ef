// Defence in depth, against the real engine under the suite's runtime (ATOMIC_SANDBOX_RUNTIME):
// the project's seccomp profile, a uid per concurrent run, every tmpfs capped, and the runtime
// checked at start-up.
import { readFileSync } from "node:fs";
import type Docker from "dockerode";
import { describe, expect, it } from "vitest";
import type { ExecuteRequest, ExecuteResult } from "../../../shared/src/protocol/sandbox.ts";
import { loadConfig } from "../config.ts";
import { containerSpec, SANDBOX_UID } from "./container-spec.ts";
import { DockerSandbox } from "./docker-sandbox.ts";
import { SandboxRuntimeError } from "./errors.ts";
import { dockerGate, SANDBOX_MODES, TEST_POLICY, TEST_RUNTIME, useSandbox } from "./test-support.ts";

const docker = await dockerGate("host-agent/src/sandbox/defence.test.ts");
const MIB = 1024 * 1024;

/** Python that prints `<label> ok` or `<label> <errno name>` for each call. */
const SYSCALL_PROBE = [
  "import ctypes, errno, socket",
  "libc = ctypes.CDLL(None, use_errno=True)",
  "def sys(label, nr, *args):",
  "    ctypes.set_errno(0)",
  "    r = libc.syscall(nr, *args)",
  "    print(label, 'ok' if r >= 0 else errno.errorcode.get(ctypes.get_errno(), ctypes.get_errno()))",
  "def sock(label, family, kind, proto=0):",
  "    try:",
  "        socket.socket(family, kind, proto).close()",
  "        print(label, 'ok')",
  "    except OSError as e:",
  "        print(label, errno.errorcode.get(e.errno, e.errno))",
  "params = ctypes.create_string_buffer(256)",
  "sys('io_uring_setup', 425, 8, params)",
  "sock('AF_VSOCK', 40, socket.SOCK_STREAM)",
  "sock('AF_PACKET', 17, socket.SOCK_RAW)",
  "sock('AF_ALG', 38, socket.SOCK_SEQPACKET)",
  "sock('NETLINK_AUDIT', 16, socket.SOCK_RAW, 9)",
  "sock('AF_UNIX', 1, socket.SOCK_STREAM)",
  "sock('AF_INET', 2, socket.SOCK_STREAM)",
  "sock('AF_INET6', 10, socket.SOCK_DGRAM)",
  "sock('NETLINK_ROUTE', 16, socket.SOCK_RAW, 0)",
  "sys('bpf', 321, 0, 0, 0)",
  "sys('keyctl', 250, 0, 0)",
  "sys('add_key', 248, b'user', b'k', b'v', 1, -2)",
  "sys('perf_event_open', 298, 0, 0, -1, -1, 0)",
  "sys('userfaultfd', 323, 0)",
  "sys('ptrace', 101, 0, 0, 0, 0)",
  "sys('process_vm_readv', 310, 1, 0, 0, 0, 0, 0)",
  "sys('unshare', 272, 0x10000000)",
  "sys('mount', 165, b'none', b'/tmp', b'tmpfs', 0, 0)",
].join("\n");

function probe(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .trim()
      .split("\n")
      .map((line) => line.split(" ") as [string, string]),
  );
}

describe.skipIf(!docker.available).each(SANDBOX_MODES)("sandbox defence in depth ($mode)", ({ warm }) => {
  const { sandbox } = useSandbox(warm);
  const run = (request: ExecuteRequest): Promise<ExecuteResult> => sandbox().execute(request);

  it("refuses io_uring and address families other than unix, inet, inet6 and netlink route, with an error", async () => {
    const result = await run({ language: "python", code: SYSCALL_PROBE });
    expect(result, result.stderr).toMatchObject({ exit_code: 0, signal: null });
    const calls = probe(result.stdout);
    for (const label of ["AF_UNIX", "AF_INET", "AF_INET6", "NETLINK_ROUTE"]) expect(calls[label], label).toBe("ok");
    // The profile answers every one with EPERM, an error the program can handle (never a kill):
    // under runc in the host's kernel, under runsc in gVisor's (its registration carries
    // --oci-seccomp; without it gVisor's own io_uring works).
    for (const label of [
      "io_uring_setup",
      "AF_VSOCK",
      "AF_PACKET",
      "AF_ALG",
      "NETLINK_AUDIT",
      "bpf",
      "keyctl",
      "add_key",
      "perf_event_open",
      "userfaultfd",
      "ptrace",
      "process_vm_readv",
      "unshare",
      "mount",
    ]) {
      expect(calls[label], label).toBe("EPERM");
    }
  });

  it("runs under the configured runtime", async () => {
    const result = await run({ language: "shell", code: "cat /proc/version" });
    const host = readFileSync("/proc/version", "utf8");
    // gVisor's Sentry is its own kernel and says another version than the host's.
    if (TEST_RUNTIME === "runc") expect(result.stdout).toBe(host);
    else expect(result.stdout).not.toBe(host);
  });

  it("gives concurrent runs their own uid: one run holding every inotify instance a user may have does not starve another", async () => {
    const hog = run({
      language: "python",
      code: [
        "import ctypes, os, time",
        "libc = ctypes.CDLL(None, use_errno=True)",
        "held = []",
        "while len(held) < 1000:",
        "    fd = libc.inotify_init1(0)",
        "    if fd < 0:",
        "        break",
        "    held.append(fd)",
        "print(os.getuid(), len(held), ctypes.get_errno(), flush=True)",
        "time.sleep(4)",
      ].join("\n"),
    });
    // Let the hog take its instances first.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const other = await run({
      language: "python",
      code: [
        "import ctypes, os",
        "libc = ctypes.CDLL(None, use_errno=True)",
        "fds = [libc.inotify_init1(0) for _ in range(20)]",
        "print(os.getuid(), sum(1 for fd in fds if fd >= 0))",
      ].join("\n"),
    });
    const held = await hog;
    const [hogUid, hogCount] = held.stdout.trim().split(" ").map(Number);
    const [otherUid, otherCount] = other.stdout.trim().split(" ").map(Number);
    // The host's default max_user_instances is 128; the hog took every one its uid may hold.
    expect(hogCount, held.stdout).toBeGreaterThanOrEqual(100);
    expect(otherCount, other.stdout + other.stderr).toBe(20);
    expect(hogUid).not.toBe(otherUid);
    for (const uid of [hogUid, otherUid]) expect(uid).toBeGreaterThanOrEqual(SANDBOX_UID);
  });

  it("caps /workspace, /tmp and /dev/shm each at the disk limit (shm at most 8 MiB) with ENOSPC, and the next run works", async () => {
    const result = await run({
      language: "python",
      code: [
        "import errno",
        "for path in ('/workspace/fill', '/tmp/fill', '/dev/shm/fill'):",
        "    written = 0",
        "    try:",
        "        for part in range(1000):",
        // Files of 1 MiB: RLIMIT_FSIZE (= the disk limit) never stops one first, the tmpfs's size does.
        "            with open(f'{path}{part}', 'wb') as f:",
        "                for _ in range(16):",
        "                    f.write(b'\\0' * 65536)",
        "                    f.flush()",
        "                    written += 65536",
        "    except OSError as e:",
        "        print(path, written, errno.errorcode[e.errno])",
      ].join("\n"),
      limits: { disk_bytes: 4 * MIB },
    });
    expect(result, result.stderr).toMatchObject({ exit_code: 0, timed_out: false, oom_killed: false });
    const lines = result.stdout.trim().split("\n");
    expect(lines.map((line) => line.split(" ")[0])).toEqual(["/workspace/fill", "/tmp/fill", "/dev/shm/fill"]);
    for (const line of lines) {
      const [, written, code] = line.split(" ");
      expect(Number(written), line).toBeLessThanOrEqual(4 * MIB);
      expect(Number(written), line).toBeGreaterThan(2 * MIB);
      expect(code, line).toBe("ENOSPC");
    }
    const after = await run({ language: "shell", code: "echo fine" });
    expect(after).toMatchObject({ exit_code: 0, stdout: "fine\n" });
    expect(await sandbox().availability()).toEqual({ status: "available", runtime: TEST_RUNTIME });
  });
});

describe("uid slots", () => {
  it("puts the uid on the user and on both tmpfs mounts, and the profile and runtime on the container", () => {
    const input = {
      image: "x",
      limits: TEST_POLICY.defaults,
      agentId: "a",
      instanceId: "i",
      engineCpus: 2,
      uid: 10007,
      runtime: "runc" as const,
    };
    const spec = containerSpec(input);
    expect(spec.User).toBe("10007:10001");
    expect(spec.HostConfig?.Tmpfs?.["/workspace"]).toContain("uid=10007,gid=10001");
    expect(spec.HostConfig?.Tmpfs?.["/tmp"]).toContain("uid=10007,gid=10001");
    expect(spec.HostConfig?.Runtime).toBe("runc");
    const seccomp = spec.HostConfig?.SecurityOpt?.find((option: string) => option.startsWith("seccomp="));
    const profile = JSON.parse(seccomp?.slice("seccomp=".length) ?? "{}");
    expect(profile).toMatchObject({ defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 1 });
    const allowed = profile.syscalls
      .filter((rule: { action: string; args?: unknown }) => rule.action === "SCMP_ACT_ALLOW" && rule.args === undefined)
      .flatMap((rule: { names: string[] }) => rule.names);
    for (const name of ["io_uring_setup", "io_uring_enter", "ptrace", "bpf", "keyctl", "socket", "socketcall"]) {
      expect(allowed).not.toContain(name);
    }
    // Under gVisor: the same denials, as a deny list (README: Debian's gVisor cannot take the allow list).
    const runsc = containerSpec({ ...input, runtime: "runsc" });
    expect(runsc.HostConfig?.Runtime).toBe("runsc");
    const gvisor = JSON.parse(
      runsc.HostConfig?.SecurityOpt?.find((option: string) => option.startsWith("seccomp="))?.slice(8) ?? "{}",
    );
    expect(gvisor.defaultAction).toBe("SCMP_ACT_ALLOW");
    const denied = gvisor.syscalls.flatMap((rule: { names: string[] }) => rule.names);
    for (const name of ["io_uring_setup", "io_uring_enter", "ptrace", "bpf", "keyctl", "socket", "mount"]) {
      expect(denied).toContain(name);
    }
  });
});

describe("the sandbox runtime setting", () => {
  it("takes runc or runsc and refuses anything else, naming the variable", () => {
    const base = { ATOMIC_AGENT_TOKEN: "t" };
    expect(loadConfig(base).ATOMIC_SANDBOX_RUNTIME).toBe("runc");
    expect(loadConfig({ ...base, ATOMIC_SANDBOX_RUNTIME: "runsc" }).ATOMIC_SANDBOX_RUNTIME).toBe("runsc");
    expect(() => loadConfig({ ...base, ATOMIC_SANDBOX_RUNTIME: "gvisor" })).toThrow(
      'ATOMIC_SANDBOX_RUNTIME must be runc or runsc (got "gvisor")',
    );
  });

  it("is a start-up error, saying how to register it, when the engine lacks it", async () => {
    const engine = {
      info: async () => ({ Runtimes: { runc: { path: "runc" } } }),
      modem: { socketPath: "/var/run/docker.sock" },
    } as unknown as Docker;
    const sandbox = new DockerSandbox({ runtime: "runsc", warm: 0, docker: engine });
    const failure = await sandbox.checkRuntime().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(SandboxRuntimeError);
    expect(String((failure as Error).message)).toMatch(
      /^ATOMIC_SANDBOX_RUNTIME=runsc, but the Docker engine at .* has no runtime "runsc" registered \(it has: runc\): install gVisor \(Debian: apt-get install runsc\), add it to \/etc\/docker\/daemon.json as \{"runtimes":\{"runsc":\{"path":"\/usr\/bin\/runsc","runtimeArgs":\["--network=none","--oci-seccomp"\]\}\}\}/,
    );
    await expect(new DockerSandbox({ runtime: "runc", warm: 0, docker: engine }).checkRuntime()).resolves.toBe(
      undefined,
    );
    const withoutSeccomp = {
      info: async () => ({
        Runtimes: { runc: { path: "runc" }, runsc: { path: "/usr/bin/runsc", runtimeArgs: ["--network=none"] } },
      }),
      modem: { socketPath: "/var/run/docker.sock" },
    } as unknown as Docker;
    await expect(
      new DockerSandbox({ runtime: "runsc", warm: 0, docker: withoutSeccomp }).checkRuntime(),
    ).rejects.toThrow(/registers "runsc" without --oci-seccomp in its runtimeArgs: install gVisor/);
  });
});
