/**
 * The supervisor's status line (host-agent/sandbox/supervisor.py): when a program has ended and
 * every other process of its container is dead, the supervisor writes
 *
 *   <nonce> <exit code> <signal number, 0 for none> <OOM kills, -1 when unknown>\n
 *
 * as the last bytes of stdout and again of stderr. The nonce is the run's own (run-input.ts), which
 * the program never learns, so a line a program prints is just output. Seeing both lines means the
 * whole output has arrived and the run is over, without waiting for the engine to see the
 * container exit.
 */

/** What the supervisor reported of a run. */
export interface RunStatus {
  exitCode: number;
  /** The signal that killed the program, or 0. */
  signal: number;
  /** Processes of the container the kernel killed for memory; null when the supervisor cannot tell (gVisor). */
  oomKills: number | null;
}

// Longest line: 32 hex digits, then three numbers of at most 11 characters each, spaces and newline.
const LINE_MAX_BYTES = 32 + 3 * 12 + 1;
const NEWLINE = 0x0a;
const decoder = new TextDecoder();

/**
 * Watches one output stream for the status line. Feed it every byte of the stream in order; once
 * {@link StatusLineScanner.status} is set, {@link StatusLineScanner.lineStart} is where the line
 * begins in the stream, i.e. how many bytes the program wrote.
 */
export class StatusLineScanner {
  readonly #pattern: RegExp;
  #tail = new Uint8Array(0);
  #seen = 0;
  status: RunStatus | undefined;
  lineStart = 0;

  constructor(nonce: string) {
    if (!/^[0-9a-f]{32}$/.test(nonce)) throw new Error("a run's nonce is 32 lowercase hex digits");
    this.#pattern = new RegExp(`${nonce} (\\d{1,10}) (\\d{1,3}) (-1|\\d{1,10})\\n$`);
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#seen += bytes.length;
    // The line is the stream's last bytes, so only a short tail is ever looked at.
    const joined = new Uint8Array(Math.min(LINE_MAX_BYTES, this.#tail.length + bytes.length));
    const fromBytes = Math.min(bytes.length, joined.length);
    const fromTail = joined.length - fromBytes;
    joined.set(this.#tail.subarray(this.#tail.length - fromTail), 0);
    joined.set(bytes.subarray(bytes.length - fromBytes), fromTail);
    this.#tail = joined;
    if (this.status !== undefined || joined[joined.length - 1] !== NEWLINE) return;
    const match = this.#pattern.exec(decoder.decode(joined));
    if (match === null) return;
    const [line, exitCode, signal, oomKills] = match;
    this.status = {
      exitCode: Number(exitCode),
      signal: Number(signal),
      oomKills: oomKills === "-1" ? null : Number(oomKills),
    };
    // The line is ASCII: its length in characters is its length in bytes.
    this.lineStart = this.#seen - line.length;
  }
}
