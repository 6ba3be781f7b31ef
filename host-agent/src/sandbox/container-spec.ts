import type { ContainerCreateOptions } from "dockerode";
import type { ResourceLimits } from "../../../shared/src/protocol/sandbox.ts";
import seccompProfile from "../../sandbox/seccomp.json" with { type: "json" };
import { supervisorCommand } from "./run-input.ts";

/** Labels on every sandbox container; `sweep()` finds leftovers by them. */
export const LABEL_SANDBOX = "atomic.sandbox";
/** Which host-agent made the container (stable across that host-agent's restarts). */
export const LABEL_AGENT = "atomic.host_agent";
/** Which controller instance made it, so a sweep spares its own live containers. */
export const LABEL_INSTANCE = "atomic.instance";

/** The image's user `sandbox`, the first uid a run gets, and the group of every run; runs never get root. */
export const SANDBOX_UID = 10001;
/**
 * How many uids from {@link SANDBOX_UID} up runs may get (10001-11024): the image names every one
 * (host-agent/sandbox/users.sh: `sandbox`, `sandbox-1` ... `sandbox-1023`, which both ways of
 * building it run; identities.test.ts checks that the two agree), so programs that look up their
 * own user work under any of them. No more sandbox containers than this are alive at once (identities.ts).
 */
export const SANDBOX_UID_COUNT = 1024;
const SANDBOX_GID = 10001;

/** The container runtimes a sandbox may run under: `runc` (the engine's default) or gVisor's `runsc`. */
export const SANDBOX_RUNTIMES = ["runc", "runsc"] as const;
export type SandboxRuntime = (typeof SANDBOX_RUNTIMES)[number];

/**
 * The project's seccomp profile (host-agent/sandbox/seccomp.json), inline as the engine takes it:
 * the engine's default allow list without io_uring, ptrace and `process_vm_*`, `socket()` for
 * AF_UNIX, AF_INET, AF_INET6 and netlink route sockets only, and explicit EPERM for bpf, keyrings,
 * perf, userfaultfd, kexec, mounts and namespaces. A denied call fails with EPERM; nothing is killed.
 */
const SECCOMP_PROFILE = JSON.stringify(seccompProfile);

/**
 * The profile as runsc gets it (its registration passes `--oci-seccomp`, so gVisor applies it to
 * the program inside the sandbox, in the Sentry): the same denials as a deny list over everything
 * else, because Debian's gVisor (2022) cannot take the allow list. It refuses `select` even when
 * listed, and answers every errno rule with EPERM whatever its `errnoRet`, so clone3's ENOSYS
 * (which makes glibc fall back to clone) would become EPERM and no thread could start.
 */
const RUNSC_SECCOMP_PROFILE = JSON.stringify({
  defaultAction: "SCMP_ACT_ALLOW",
  syscalls: [
    ...seccompProfile.syscalls.filter((rule) => rule.action === "SCMP_ACT_ERRNO" && !rule.names.includes("clone3")),
    // socket(): every address family but AF_UNIX (1), AF_INET (2), AF_INET6 (10) and netlink (16) ...
    ...[0, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15].map((family) =>
      socketRule({ index: 0, value: family, op: "SCMP_CMP_EQ" }),
    ),
    socketRule({ index: 0, value: 16, op: "SCMP_CMP_GT" }),
    // ... and netlink for anything but NETLINK_ROUTE (0).
    socketRule({ index: 0, value: 16, op: "SCMP_CMP_EQ" }, { index: 2, value: 0, op: "SCMP_CMP_NE" }),
  ],
});

function socketRule(...args: Array<{ index: number; value: number; op: string }>) {
  return { names: ["socket"], action: "SCMP_ACT_ERRNO", errnoRet: 1, args };
}

/** Everything about a container that does not depend on the run it will serve. */
export interface ContainerSpecInput {
  image: string;
  limits: ResourceLimits;
  agentId: string;
  instanceId: string;
  /** CPUs the engine has: Docker refuses `NanoCpus` above that, so larger requests are capped to it. */
  engineCpus: number;
  /**
   * The uid the container's processes run as (default {@link SANDBOX_UID}). The sandbox gives
   * every container alive at once its own (see identities.ts), so that per-user kernel limits
   * (inotify instances, POSIX message queues, ...) of one run cannot be spent by another.
   */
  uid?: number;
  /** `runc` (default) or `runsc` (gVisor), which must be registered with the engine. */
  runtime?: SandboxRuntime;
}

const FILE_DESCRIPTORS = 1024;
// /dev/shm is one more writable tmpfs Docker always mounts; keep it small (POSIX semaphores and
// the like need only a few pages) so it cannot add much to the disk limit.
const SHM_BYTES = 8 * 1024 * 1024;

/**
 * Host tasks a container may have. Under runc each process of the program is one. Under gVisor the
 * program's processes live in the Sentry, whose host threads are what the cgroup counts: about 38
 * at rest and about 9 more per process of the program (measured here with runsc's ptrace
 * platform), so the cap is scaled to give the program about `max_processes` processes. Past it
 * the Sentry cannot make a thread and the whole sandbox dies (exit 137), where runc's `fork()`
 * fails with EAGAIN. (RLIMIT_NPROC is no way out: Debian's gVisor 2022 then refuses every new
 * thread, whatever the limit, and Node cannot start.)
 */
function pidsLimit(maxProcesses: number, runtime: SandboxRuntime): number {
  return runtime === "runsc"
    ? RUNSC_BASE_TASKS + RUNSC_TASKS_PER_PROCESS * (maxProcesses + RUNSC_SUPERVISOR_TASKS)
    : maxProcesses;
}
const RUNSC_BASE_TASKS = 48;
const RUNSC_TASKS_PER_PROCESS = 9;
/** Under runsc the supervisor stays, with its two output relays (supervisor.py), beside the program. */
const RUNSC_SUPERVISOR_TASKS = 3;

/**
 * The `docker create` body of a sandbox container (DESIGN §8): no network, read-only root, a
 * non-root uid of its own with every capability dropped, no privilege gain and the project's
 * seccomp profile, under the chosen runtime, memory without swap, CPU and process
 * caps, and size-capped tmpfs mounts at /workspace and /tmp as the only writable places (plus the
 * file-size rlimit, because overlay2 on ext4 cannot cap a container's disk). The supervisor
 * (supervisor.py) is PID 1, so the program is not (PID 1 ignores default-action signals), every
 * orphan is reaped, and under runc nothing inside the container can signal the supervisor (under
 * gVisor a program can still SIGKILL or SIGSTOP it: supervisor.py, ignore_signals).
 * No log driver: output reaches us through the attach stream only, and a flood must not fill the
 * engine's disk with a json log.
 */
export function containerSpec(input: ContainerSpecInput): ContainerCreateOptions {
  const { limits } = input;
  const disk = limits.disk_bytes;
  const millicores = Math.min(limits.cpu_millicores, input.engineCpus * 1000);
  const uid = input.uid ?? SANDBOX_UID;
  const owner = `uid=${uid},gid=${SANDBOX_GID}`;
  return {
    Image: input.image,
    // The supervisor is PID 1 (see supervisor.py); under runsc it relays the program's output
    // (gVisor cuts large writes to the container's stdout and stderr short).
    Cmd: supervisorCommand(input.runtime ?? "runc"),
    // Clear the image's entrypoint so the supervisor always runs as the command.
    Entrypoint: [],
    User: `${uid}:${SANDBOX_GID}`,
    WorkingDir: "/workspace",
    Env: ["HOME=/workspace", "TMPDIR=/tmp", "LANG=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1"],
    Labels: { [LABEL_SANDBOX]: "1", [LABEL_AGENT]: input.agentId, [LABEL_INSTANCE]: input.instanceId },
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: true,
    // Closing our side of the attach stream closes the program's stdin (EOF) and nothing else.
    StdinOnce: true,
    Tty: false,
    NetworkDisabled: true,
    HostConfig: {
      NetworkMode: "none",
      ReadonlyRootfs: true,
      // The supervisor is the container's init (see above), not docker-init.
      Init: false,
      CapDrop: ["ALL"],
      SecurityOpt: [
        "no-new-privileges",
        `seccomp=${input.runtime === "runsc" ? RUNSC_SECCOMP_PROFILE : SECCOMP_PROFILE}`,
      ],
      // The engine's own name for its default runtime is `runc`; naming it changes nothing there.
      Runtime: input.runtime ?? "runc",
      Privileged: false,
      Memory: limits.memory_bytes,
      // Equal to Memory: no swap, so the memory limit is the limit.
      MemorySwap: limits.memory_bytes,
      NanoCpus: millicores * 1_000_000,
      PidsLimit: pidsLimit(limits.max_processes, input.runtime ?? "runc"),
      ShmSize: Math.min(SHM_BYTES, disk),
      Tmpfs: {
        "/workspace": `rw,nosuid,nodev,noexec,size=${disk},${owner},mode=0700`,
        "/tmp": `rw,nosuid,nodev,noexec,size=${disk},${owner},mode=1777`,
      },
      Ulimits: [
        { Name: "fsize", Soft: disk, Hard: disk },
        { Name: "nofile", Soft: FILE_DESCRIPTORS, Hard: FILE_DESCRIPTORS },
      ],
      LogConfig: { Type: "none", Config: {} },
      AutoRemove: false,
      RestartPolicy: { Name: "no" },
    },
  };
}
