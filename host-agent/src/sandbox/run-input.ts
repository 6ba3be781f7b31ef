/**
 * How a run's files, command line and stdin reach the container: one byte stream on the
 * container's stdin, read by the supervisor (host-agent/sandbox/supervisor.py), which is the
 * container's command and its PID 1.
 *
 * Why: the root file system is read-only and Docker's archive upload cannot write into a tmpfs, and
 * a warm container is started before its request exists, so everything a run needs has to arrive
 * after start, through stdin. The stream is
 *
 *   <32 bytes: the run's nonce, hex (see run-status.ts)>
 *   <16 decimal digits: N> <N bytes: tar of the files>
 *   <16 decimal digits: M> <M bytes: the command line, its words separated by NUL>
 *   <the request's stdin, to EOF>
 *
 * The supervisor never reads past the command line, so the program inherits stdin positioned
 * exactly at the request's stdin. Under gVisor it also relays the program's stdout and stderr
 * (`--relay`; the supervisor's docstring says why).
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { buildTar } from "../../../shared/src/archive/tar.ts";
import type { SandboxRuntime } from "./container-spec.ts";
import type { Program } from "./program.ts";

const LENGTH_DIGITS = 16;

/**
 * The supervisor's source, given to `python3 -c` so that the image need not carry it. It is
 * host-agent/sandbox/supervisor.py, two folders up from this file in the source tree and one up
 * from the bundled CLI (host-agent/dist/cli.js), which the package ships beside sandbox/.
 */
const SUPERVISOR_SOURCE = readSupervisor();

function readSupervisor(): string {
  const candidates = ["../../sandbox/supervisor.py", "../sandbox/supervisor.py"].map(
    (path) => new URL(path, import.meta.url),
  );
  const found = candidates.find((url) => existsSync(url));
  if (found === undefined) {
    throw new Error(
      `the sandbox's supervisor is missing: looked for ${candidates.map((url) => url.pathname).join(" and ")}`,
    );
  }
  return readFileSync(found, "utf8");
}

/** The container command: the supervisor, relaying the program's output under runsc. */
export function supervisorCommand(runtime: SandboxRuntime): string[] {
  return ["python3", "-c", SUPERVISOR_SOURCE, ...(runtime === "runsc" ? ["--relay"] : [])];
}

/** A run's nonce: 16 random bytes as 32 hex digits, which only the supervisor learns. */
export function newRunNonce(): string {
  return randomBytes(16).toString("hex");
}

const encoder = new TextEncoder();

function lengthField(length: number): Uint8Array {
  return encoder.encode(String(length).padStart(LENGTH_DIGITS, "0"));
}

/** The bytes to write to the supervisor's stdin, in order, for `program` with `stdin`. */
export function encodeRunInput(nonce: string, program: Program, stdin: string | undefined): Uint8Array[] {
  const tar = buildTar(program.files);
  const tarLength = tar.reduce((sum, piece) => sum + piece.length, 0);
  // Words cannot hold NUL (planProgram refuses it), so NUL separates them.
  const command = encoder.encode(program.argv.join("\0"));
  const pieces = [encoder.encode(nonce), lengthField(tarLength), ...tar, lengthField(command.length), command];
  if (stdin !== undefined && stdin.length > 0) pieces.push(encoder.encode(stdin));
  return pieces;
}
