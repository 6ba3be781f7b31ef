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
 * files are unpacked byte for byte by tar. Under gVisor the loader also relays the program's stdout
 * and stderr (see {@link RELAYING_LOADER_SCRIPT} for why).
 */
import { buildTar } from "../../../shared/src/archive/tar.ts";
import type { SandboxRuntime } from "./container-spec.ts";
import type { Program } from "./program.ts";

const LENGTH_DIGITS = 16;

/** Reads the files and the command line (exit 125 when they cannot be unpacked) into `$c`. */
const LOAD = [
  `n=$(head -c ${LENGTH_DIGITS}) || exit 125`,
  `head -c "$n" | tar -x -f - -C /workspace --no-same-owner --no-same-permissions -m ||`,
  `{ echo "atomic-sandbox: could not unpack the files into /workspace" >&2; exit 125; }`,
  `m=$(head -c ${LENGTH_DIGITS}) && c=$(head -c "$m") || exit 125`,
];

/**
 * The container's command under runc. Exit 125 (like `docker run` itself) with a message on stderr
 * when the files cannot be unpacked, e.g. because they do not fit the workspace's disk limit. The
 * program then replaces the shell, writing straight to the container's stdout and stderr.
 */
export const LOADER_SCRIPT = [...LOAD, `eval "exec $c"`].join("\n");

/**
 * The container's command under gVisor (runsc): the same loader, with the program's stdout and
 * stderr relayed.
 *
 * Why: the container's stdout and stderr are host pipes that the engine reads, and gVisor (release
 * 20221219) answers a write() to such a pipe with whatever fits in it at that moment, returning a
 * short count, where Linux blocks until every byte is written. A program that does not retry a
 * short write loses the rest: Python's stdout with PYTHONUNBUFFERED=1 (set in the image) ignores
 * the count, so `sys.stdout.write` of 1 MiB delivers 64 KiB (the host pipe's size) and reports
 * success, and any write of more than 4 KiB (PIPE_BUF) into a pipe that is partly full can come
 * up short. Pipes inside the sandbox are gVisor's own and block like Linux's. So the program writes
 * into two of those (FIFOs in /tmp, unlinked before the program starts), and one `cat` per stream,
 * which retries short writes (coreutils' full_write), copies them to the real stdout and stderr.
 * The relays start before the loader reads its input, so a warm container has them running and a
 * cold one starts them while its input arrives.
 *
 * The program runs in a session of its own (setsid), so that signals it sends its own process
 * group (`kill -STOP 0`, `kill 0`) do not reach the loader or the relays. Its status is the
 * shell's `$?` (wait(), which the program cannot write to), and the container exits with it. When
 * it has exited, the loader stops every other process at once (`kill -STOP -1` is one system
 * call, so nothing forks past it; it spares PID 1, docker-init, and the loader itself), kills all
 * but the relays (under runc the container ends with the program and takes its background
 * processes with it; here a leftover writer would keep a relay from ever seeing end of file), lets
 * the relays drain and exits. Never run this outside a container: `kill -STOP -1` there stops
 * every process of the user.
 */
export const RELAYING_LOADER_SCRIPT = [
  `mkfifo /tmp/.atomic-stdout /tmp/.atomic-stderr || exit 125`,
  // Each FIFO opened read-write first, so that none of the opens after it waits for the other end;
  // then a read end for each relay (5, 6) and a write-only end for the program (7, 8).
  `exec 3<>/tmp/.atomic-stdout 4<>/tmp/.atomic-stderr`,
  `exec 5</tmp/.atomic-stdout 6</tmp/.atomic-stderr 7>/tmp/.atomic-stdout 8>/tmp/.atomic-stderr 3>&- 4>&-`,
  `rm -f /tmp/.atomic-stdout /tmp/.atomic-stderr & r=$!`,
  // A relay holds only its own read end: it sees end of file once every writer has gone.
  `cat <&5 5<&- 6<&- 7>&- 8>&- & o=$!`,
  `cat <&6 >&2 5<&- 6<&- 7>&- 8>&- & e=$!`,
  `exec 5<&- 6<&-`,
  ...LOAD,
  `wait "$r"`,
  // The loader's own stderr is no longer needed: dash reports a child killed by a signal
  // ("Terminated") there, which runc's init does not. The subshell becomes the program.
  `exec 2>/dev/null`,
  `(eval "exec setsid $c" >&7 2>&8 7>&- 8>&-)`,
  `s=$?`,
  `exec 7>&- 8>&-`,
  `kill -STOP -1`,
  `for p in /proc/[0-9]*; do p=\${p#/proc/}; case $p in 1|$$|$o|$e) ;; *) kill -KILL "$p" ;; esac; done`,
  `kill -CONT "$o" "$e"`,
  `wait`,
  `exit "$s"`,
].join("\n");

/** The container command: the loader, relaying the program's output under runsc (see above). */
export function loaderCommand(runtime: SandboxRuntime): string[] {
  return ["/bin/sh", "-c", runtime === "runsc" ? RELAYING_LOADER_SCRIPT : LOADER_SCRIPT];
}

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
