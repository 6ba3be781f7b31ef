import type { ExecuteResult } from "../../../shared/src/protocol/sandbox.ts";
import type { LaunchedContainer } from "./container-launch.ts";
import { engineError, isNotFound } from "./engine-errors.ts";
import { SandboxError } from "./errors.ts";
import { signalFromExitCode, signalName, SIGKILL } from "./exit-status.ts";
import type { Program } from "./program.ts";
import { encodeRunInput, newRunNonce } from "./run-input.ts";
import type { RunStatus } from "./run-status.ts";

/** What one run needs besides its container. */
export interface RunOptions {
  /** The files and command line, written to the supervisor's stdin (run-input.ts) ... */
  program: Program;
  /** ... followed by the request's stdin, which is then closed. */
  stdin: string | undefined;
  /** Wall-clock limit from the moment the input starts flowing. */
  timeoutMs: number;
  /** Kill the run once stdout + stderr pass this many bytes (0: never; read and drop instead). */
  outputKillBytes: number;
  /** Image name, for error messages. */
  image: string;
  signal?: AbortSignal;
}

type KillReason = "timeout" | "output" | "aborted";

// After the container has exited, its attach stream ends within milliseconds; this bounds the
// wait for the last output so that an engine that never closes it cannot hang a run.
const STREAM_DRAIN_MS = 2000;
/** How long a container ended by a SIGKILL that was not ours waits for the engine's OOM event. */
const LATE_OOM_EVENT_MS = 250;

/**
 * Runs one program in a launched container and reports what it did. The timeout is enforced from
 * the host by SIGKILL of the whole container, which stops every process in it whatever state
 * they are in (a program that SIGSTOPs itself or its process group included). Never removes the
 * container: the caller does that in `finally`.
 */
export async function runInContainer(launched: LaunchedContainer, options: RunOptions): Promise<ExecuteResult> {
  const { container, stream } = launched;
  if (launched.isEnded()) {
    throw new SandboxError("sandbox_error", `container ${launched.id.slice(0, 12)} exited before the run started`, {
      retryable: true,
    });
  }
  if (options.signal?.aborted === true) throw new SandboxError("cancelled", "the run was cancelled");

  let killed: KillReason | undefined;
  let killing: Promise<void> | undefined;
  // A kill the engine refuses would leave `wait` hanging on a program that never ends: fail the run.
  let killFailed: (error: SandboxError) => void = () => undefined;
  const killFailure = new Promise<never>((_, reject) => {
    killFailed = reject;
  });
  const kill = (reason: KillReason) => {
    if (killing !== undefined) return;
    killing = container.kill({ signal: "SIGKILL" }).then(
      () => {
        killed = reason;
      },
      (error: unknown) => {
        // 404/409: the container had already exited, so nothing was cut short.
        if (isNotFound(error) || Reflect.get(Object(error), "statusCode") === 409) return;
        killFailed(engineError(error, "kill", options.image));
      },
    );
  };

  const onAbort = () => kill("aborted");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.outputKillBytes > 0) launched.onOutputPast(options.outputKillBytes, () => kill("output"));

  const nonce = newRunNonce();
  const reported = new Promise<RunStatus>((resolve) => launched.capture.expectStatus(nonce, resolve));
  const started = performance.now();
  let streamEndedAt: number | undefined;
  void launched.ended.then(() => {
    streamEndedAt = performance.now();
  });
  // The engine's view, for a run that ends without the supervisor's status (killed with its container).
  const exited = container.wait();
  exited.catch(() => undefined);
  const timer = setTimeout(() => kill("timeout"), options.timeoutMs);
  const writing = writeInput(launched, encodeRunInput(nonce, options.program, options.stdin));

  let outcome: { status: RunStatus } | { engine: unknown };
  let endedAt: number;
  try {
    outcome = await Promise.race([
      reported.then((status) => ({ status })),
      exited.then((engine: unknown) => ({ engine })),
      killFailure,
    ]);
    endedAt = performance.now();
  } catch (error) {
    throw engineError(error, "wait", options.image);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
  }

  if ("status" in outcome) {
    // The supervisor outlived the program, so no kill of the container cut it short; a kill sent
    // at the same moment only decides whether the caller still wants the answer.
    if (killing !== undefined) await killing;
    if (killed === "aborted") throw new SandboxError("cancelled", "the run was cancelled");
    const { status } = outcome;
    const output = launched.capture.result();
    return {
      exit_code: status.exitCode,
      signal: status.signal === 0 ? null : signalName(status.signal),
      stdout: output.stdout,
      stderr: output.stderr,
      truncated: output.truncated,
      timed_out: false,
      // Where the supervisor cannot read the kernel's count (gVisor), a program killed by SIGKILL
      // may have been killed for memory: the engine knows.
      oom_killed:
        status.oomKills !== null
          ? status.oomKills > 0
          : status.signal === SIGKILL && (await engineOomKilled(container, options.image)),
      duration_ms: Math.max(0, Math.round(endedAt - started)),
    };
  }

  const code: unknown = Reflect.get(Object(outcome.engine), "StatusCode");
  if (typeof code !== "number") {
    throw engineError(
      new Error(`wait answered without a StatusCode: ${JSON.stringify(outcome.engine)}`),
      "wait",
      options.image,
    );
  }
  // The kill's answer tells a timeout from a program that ended on its own at the same moment.
  if (killing !== undefined) await killing;
  await Promise.race([launched.ended, delay(STREAM_DRAIN_MS)]);
  if (!launched.isEnded()) stream.destroy();
  await writing;

  if (killed === "aborted") throw new SandboxError("cancelled", "the run was cancelled");
  let oomKilled = await engineOomKilled(container, options.image);
  // The engine applies a container's OOM event apart from its exit, and can apply it after `wait`
  // has answered (seen under gVisor: about one memory bomb in a hundred read as not OOM-killed).
  // A container that a SIGKILL ended, and not ours, is looked at once more.
  if (!oomKilled && code === 128 + SIGKILL && killed === undefined) {
    await delay(LATE_OOM_EVENT_MS);
    oomKilled = await engineOomKilled(container, options.image);
  }
  const output = launched.capture.result();
  return {
    exit_code: code,
    signal: signalFromExitCode(code),
    stdout: output.stdout,
    stderr: output.stderr,
    truncated: output.truncated || killed === "output",
    timed_out: killed === "timeout",
    oom_killed: oomKilled,
    duration_ms: Math.max(0, Math.round(Math.min(endedAt, streamEndedAt ?? endedAt) - started)),
  };
}

/** Whether the engine saw the kernel kill a process of the container for memory. */
async function engineOomKilled(container: LaunchedContainer["container"], image: string): Promise<boolean> {
  try {
    const info = await container.inspect();
    return info.State.OOMKilled;
  } catch (error) {
    throw engineError(error, "inspect", image);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Writes the input with backpressure and then half-closes the stream (stdin EOF). Resolves in
 * every case: a program may exit without reading its stdin, and the write then fails or stalls
 * harmlessly, which is the program's business, not an error of the run.
 */
async function writeInput(launched: LaunchedContainer, input: readonly Uint8Array[]): Promise<void> {
  const { stream } = launched;
  const gone = launched.ended.then(() => "gone" as const);
  for (const piece of input) {
    if (launched.isEnded()) return;
    if (!stream.write(piece)) {
      const drained = new Promise<"drained">((resolve) => stream.once("drain", () => resolve("drained")));
      if ((await Promise.race([drained, gone])) === "gone") return;
    }
  }
  if (!launched.isEnded()) stream.end();
}
