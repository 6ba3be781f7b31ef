import { Duplex } from "node:stream";
import type Docker from "dockerode";
import type { ContainerCreateOptions } from "dockerode";
import { engineError, isNotFound } from "./engine-errors.ts";
import { OutputCapture } from "./output-capture.ts";

/**
 * A created, attached and started sandbox container whose supervisor is waiting on stdin: ready for
 * exactly one run. Output is captured from the moment of attach, so nothing the container writes
 * is lost whether the run starts now (cold) or later (warm pool).
 */
export interface LaunchedContainer {
  readonly id: string;
  readonly container: Docker.Container;
  /** The hijacked attach connection: write the run input to it, end it to close stdin. */
  readonly stream: Duplex;
  readonly capture: OutputCapture;
  /** Settles when the attach stream has ended or closed (the container exited or the engine went away). */
  readonly ended: Promise<void>;
  /** Whether {@link LaunchedContainer.ended} has settled: a warm container in that state is dead. */
  isEnded(): boolean;
  /** Called once when stdout + stderr pass `bytes` in total (the flood guard). */
  onOutputPast(bytes: number, listener: () => void): void;
  /** When the container was started, for the pool's bookkeeping. */
  readonly startedAt: number;
}

/** Creates, attaches and starts a container from `spec`; removes it again if any step fails. */
export async function launchContainer(
  docker: Docker,
  spec: ContainerCreateOptions,
  outputLimitBytes: number,
): Promise<LaunchedContainer> {
  const image = spec.Image ?? "";
  let container: Docker.Container;
  try {
    container = await docker.createContainer(spec);
  } catch (error) {
    throw engineError(error, "create", image);
  }
  try {
    const attached = await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true });
    // With `hijack` docker-modem hands over the upgraded socket itself, which is a Duplex.
    if (!(attached instanceof Duplex)) throw new Error("attach did not return a duplex stream");
    const stream = attached;
    const capture = new OutputCapture(outputLimitBytes);
    let ended = false;
    let threshold: { bytes: number; listener: () => void } | undefined;
    stream.on("data", (chunk: Buffer) => {
      capture.push(chunk);
      if (threshold !== undefined && capture.totalBytes > threshold.bytes) {
        const { listener } = threshold;
        threshold = undefined;
        listener();
      }
    });
    const endedPromise = new Promise<void>((resolve) => {
      const finish = () => {
        ended = true;
        resolve();
      };
      stream.once("end", finish);
      stream.once("close", finish);
      // A socket error (EPIPE when a program exits without reading its stdin, the engine going
      // away) ends the stream too; the run then reads the exit state from the engine. The
      // listener stays for the stream's life: an error event without one would crash the process.
      stream.on("error", finish);
    });
    await container.start();
    return {
      id: container.id,
      container,
      stream,
      capture,
      ended: endedPromise,
      isEnded: () => ended,
      onOutputPast: (bytes, listener) => {
        threshold = { bytes, listener };
      },
      startedAt: Date.now(),
    };
  } catch (error) {
    const failure = engineError(error, "attach/start", image);
    try {
      await removeContainer(container);
    } catch (removeError) {
      // Report both: the launch failure is the answer, the leftover is for sweep() to collect.
      failure.message += ` (and removing container ${container.id} failed: ${engineError(removeError, "remove", image).message})`;
    }
    throw failure;
  }
}

/**
 * Force-removes a container (killing it if it runs). A container that is already gone is fine;
 * any other failure propagates so that a caller can log it, and `sweep()` is the backstop.
 */
export async function removeContainer(container: Docker.Container): Promise<void> {
  try {
    await container.remove({ force: true, v: true });
  } catch (error) {
    if (isNotFound(error)) return;
    // 409 "removal already in progress": another path (close, sweep) is removing it.
    if (typeof error === "object" && error !== null && Reflect.get(error, "statusCode") === 409) return;
    throw error;
  }
}
