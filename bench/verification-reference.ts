/**
 * The floor a verification round is measured against: the same driver command on the same files,
 * run with `docker exec` in a container that is already running (the sandbox's own container spec:
 * image, limits, user, tmpfs mounts, seccomp), timed from the exec's creation to its exit. A round
 * in a warm container pays for what this leaves out: handing the job over, unpacking the files,
 * starting the driver in a fresh container, and reading its exit.
 */
import Docker from "dockerode";
import { containerSpec } from "../host-agent/src/sandbox/container-spec.ts";
import { limitPolicyFromEnv, SandboxEnv } from "../host-agent/src/sandbox/limits.ts";
import { planVerification, verificationLimits } from "../host-agent/src/sandbox/verification.ts";
import type { VerifyPayload } from "../shared/src/protocol/verification.ts";

/** Writes the JSON object on stdin ({path: content}) into the working directory, after emptying it. */
const WRITE_FILES = [
  "import json, os, shutil, sys",
  "for name in os.listdir('.'):",
  "    path = os.path.join('.', name)",
  "    shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) else os.remove(path)",
  "for path, content in json.load(sys.stdin).items():",
  "    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)",
  "    open(path, 'w', encoding='utf-8').write(content)",
].join("\n");

async function execute(container: Docker.Container, argv: string[], stdin?: string): Promise<number> {
  const exec = await container.exec({
    Cmd: argv,
    AttachStdin: stdin !== undefined,
    AttachStdout: true,
    AttachStderr: true,
    WorkingDir: "/workspace",
  });
  const stream = await exec.start({ hijack: true, stdin: stdin !== undefined });
  if (stdin !== undefined) stream.end(stdin);
  await new Promise<void>((resolve, reject) => {
    stream.on("data", () => undefined);
    stream.once("end", resolve);
    stream.once("close", resolve);
    stream.once("error", reject);
  });
  // The stream can end a moment before the engine records the exit.
  for (let i = 0; i < 100; i++) {
    const { Running, ExitCode } = await exec.inspect();
    if (!Running && ExitCode !== null) return ExitCode;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`${argv[0] ?? "the command"} had not exited 0.5 s after its output ended`);
}

/** `runs` times the driver on `payload` in one running container; ms each, from exec to exit. */
export async function inContainerRounds(options: {
  image: string;
  payload: VerifyPayload;
  runs: number;
  agentId: string;
}): Promise<number[]> {
  const docker = new Docker();
  const limits = verificationLimits(undefined, limitPolicyFromEnv(SandboxEnv.parse({})));
  const plan = planVerification(options.payload, { timeoutSeconds: limits.timeout_seconds, outputLimitBytes: 1 << 20 });
  const info = await docker.info();
  const spec = containerSpec({
    image: options.image,
    limits,
    agentId: options.agentId,
    instanceId: `reference-${process.pid}`,
    engineCpus: typeof info.NCPU === "number" ? info.NCPU : 1,
  });
  const container = await docker.createContainer({
    ...spec,
    Cmd: ["sleep", "infinity"],
    AttachStdin: false,
    OpenStdin: false,
    StdinOnce: false,
  });
  try {
    await container.start();
    const files = JSON.stringify(
      Object.fromEntries(plan.files.map((file) => [file.path, new TextDecoder().decode(file.bytes)])),
    );
    const times: number[] = [];
    for (let i = 0; i < options.runs; i++) {
      // A fresh workspace each time, as each round gets, outside the timing.
      const written = await execute(container, ["python3", "-c", WRITE_FILES], files);
      if (written !== 0) throw new Error(`writing the files into the running container exited ${written}`);
      const started = performance.now();
      const exit = await execute(container, plan.argv);
      times.push(performance.now() - started);
      if (exit !== 0) throw new Error(`the driver in the running container exited ${exit}`);
    }
    return times;
  } finally {
    await container.remove({ force: true });
  }
}
