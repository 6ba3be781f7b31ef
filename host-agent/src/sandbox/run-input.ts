/**
 * How a run's files, command line and stdin reach the container: one byte stream on the
 * container's stdin, read by a small `sh` loader that is the container's command.
 *
 * Why: the root file system is read-only and Docker's archive upload cannot write into a tmpfs, and
 * a warm container is started before its request exists, so everything a run needs has to arrive
 * after start, through stdin. The stream is
 *
 *   <16 decimal digits: N> <N bytes: tar of the files>
 *   <16 decimal digits: M> <M bytes: the command line, shell-quoted>
 *   <the request's stdin, to EOF>
 *
 * `head -c` (GNU coreutils) never reads past the count it is given, so after the loader has taken
 * its two sections the program inherits stdin positioned exactly at the request's stdin, and the
 * files are unpacked byte for byte by tar.
 */
import { buildTar } from "../../../shared/src/archive/tar.ts";
import type { Program } from "./program.ts";

const LENGTH_DIGITS = 16;

/**
 * The container's command. Exit 125 (like `docker run` itself) with a message on stderr when the
 * files cannot be unpacked, e.g. because they do not fit the workspace's disk limit.
 */
export const LOADER_SCRIPT = [
  `n=$(head -c ${LENGTH_DIGITS}) || exit 125`,
  `head -c "$n" | tar -x -f - -C /workspace --no-same-owner --no-same-permissions -m ||`,
  `{ echo "atomic-sandbox: could not unpack the files into /workspace" >&2; exit 125; }`,
  `m=$(head -c ${LENGTH_DIGITS}) && c=$(head -c "$m") || exit 125`,
  `eval "exec $c"`,
].join("\n");

/** The container command that runs {@link LOADER_SCRIPT}. */
export const LOADER_COMMAND = ["/bin/sh", "-c", LOADER_SCRIPT];

const encoder = new TextEncoder();

/** Quotes one word for `sh`: inside single quotes nothing is special except `'` itself. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

function lengthField(length: number): Uint8Array {
  return encoder.encode(String(length).padStart(LENGTH_DIGITS, "0"));
}

/** The bytes to write to the loader's stdin, in order, for `program` with `stdin`. */
export function encodeRunInput(program: Program, stdin: string | undefined): Uint8Array[] {
  const tar = buildTar(program.files);
  const tarLength = tar.reduce((sum, piece) => sum + piece.length, 0);
  const command = encoder.encode(program.argv.map(shellQuote).join(" "));
  const pieces = [lengthField(tarLength), ...tar, lengthField(command.length), command];
  if (stdin !== undefined && stdin.length > 0) pieces.push(encoder.encode(stdin));
  return pieces;
}
