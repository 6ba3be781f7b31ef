import type { ContainerCreateOptions } from "dockerode";
import type { ResourceLimits } from "../../../shared/src/protocol/sandbox.ts";
import { LOADER_COMMAND } from "./run-input.ts";

/** Labels on every sandbox container; `sweep()` finds leftovers by them. */
export const LABEL_SANDBOX = "atomic.sandbox";
/** Which host-agent made the container (stable across that host-agent's restarts). */
export const LABEL_AGENT = "atomic.host_agent";
/** Which controller instance made it, so a sweep spares its own live containers. */
export const LABEL_INSTANCE = "atomic.instance";

/** The user the image defines; runs never get root. */
export const SANDBOX_USER = "10001:10001";

/** Everything about a container that does not depend on the run it will serve. */
export interface ContainerSpecInput {
  image: string;
  limits: ResourceLimits;
  agentId: string;
  instanceId: string;
  /** CPUs the engine has: Docker refuses `NanoCpus` above that, so larger requests are capped to it. */
  engineCpus: number;
}

const FILE_DESCRIPTORS = 1024;
// /dev/shm is one more writable tmpfs Docker always mounts; keep it small (POSIX semaphores and
// the like need only a few pages) so it cannot add much to the disk limit.
const SHM_BYTES = 8 * 1024 * 1024;

/**
 * The `docker create` body of a sandbox container (DESIGN §8): no network, read-only root, uid
 * 10001 with every capability dropped and no privilege gain, memory without swap, CPU and process
 * caps, and size-capped tmpfs mounts at /workspace and /tmp as the only writable places (plus the
 * file-size rlimit, because overlay2 on ext4 cannot cap a container's disk). Docker's init is PID 1
 * so the program is not PID 1 (which ignores default-action signals) and its children are reaped.
 * No log driver: output reaches us through the attach stream only, and a flood must not fill the
 * engine's disk with a json log.
 */
export function containerSpec(input: ContainerSpecInput): ContainerCreateOptions {
  const { limits } = input;
  const disk = limits.disk_bytes;
  const millicores = Math.min(limits.cpu_millicores, input.engineCpus * 1000);
  return {
    Image: input.image,
    Cmd: LOADER_COMMAND,
    // Clear the image's entrypoint so the loader always runs as the command.
    Entrypoint: [],
    User: SANDBOX_USER,
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
      Init: true,
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges"],
      Privileged: false,
      Memory: limits.memory_bytes,
      // Equal to Memory: no swap, so the memory limit is the limit.
      MemorySwap: limits.memory_bytes,
      NanoCpus: millicores * 1_000_000,
      PidsLimit: limits.max_processes,
      ShmSize: Math.min(SHM_BYTES, disk),
      Tmpfs: {
        "/workspace": `rw,nosuid,nodev,noexec,size=${disk},uid=10001,gid=10001,mode=0700`,
        "/tmp": `rw,nosuid,nodev,noexec,size=${disk},uid=10001,gid=10001,mode=1777`,
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
