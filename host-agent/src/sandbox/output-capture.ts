/**
 * Splits Docker's multiplexed attach stream (no TTY) into stdout and stderr and keeps at most
 * `limitBytes` of each, so a program that floods its output costs a bounded amount of memory.
 *
 * Each frame is an 8-byte header — stream (1 = stdout, 2 = stderr), three zero bytes, a big-endian
 * uint32 payload length — followed by the payload. Frames arrive split across chunks arbitrarily.
 */
import { StatusLineScanner, type RunStatus } from "./run-status.ts";

const HEADER_BYTES = 8;

class CappedBuffer {
  readonly #chunks: Uint8Array[] = [];
  #kept = 0;
  readonly #limit: number;
  dropped = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Forgets what was pushed from byte `offset` of the stream on (the supervisor's status line). */
  endAt(offset: number): void {
    let keep = Math.min(offset, this.#kept);
    this.#kept = keep;
    for (let index = 0; index < this.#chunks.length; index++) {
      const chunk = this.#chunks[index] ?? new Uint8Array(0);
      if (keep < chunk.length) {
        this.#chunks[index] = chunk.subarray(0, keep);
        this.#chunks.length = index + 1;
      }
      keep -= Math.min(keep, chunk.length);
    }
    this.dropped = Math.max(0, offset - this.#limit);
  }

  push(bytes: Uint8Array): void {
    const room = this.#limit - this.#kept;
    if (room > 0) {
      // Copy: the chunk's backing buffer belongs to the socket and may be large.
      const kept = bytes.slice(0, room);
      this.#chunks.push(kept);
      this.#kept += kept.length;
    }
    this.dropped += Math.max(0, bytes.length - Math.max(room, 0));
  }

  text(): string {
    const all = Buffer.concat(this.#chunks);
    // A cut in the middle of a UTF-8 sequence would decode to U+FFFD; end at the last whole character.
    const end = this.dropped > 0 ? wholeUtf8Prefix(all) : all.length;
    return all.subarray(0, end).toString("utf8");
  }
}

function wholeUtf8Prefix(bytes: Buffer): number {
  // Step back over at most 3 continuation bytes to the lead byte of the last sequence.
  let lead = bytes.length - 1;
  while (lead >= 0 && lead > bytes.length - 4 && ((bytes[lead] ?? 0) & 0xc0) === 0x80) lead--;
  if (lead < 0) return bytes.length;
  const first = bytes[lead] ?? 0;
  const needed = first >= 0xf0 ? 4 : first >= 0xe0 ? 3 : first >= 0xc0 ? 2 : 1;
  return bytes.length - lead >= needed ? bytes.length : lead;
}

/** The result of a capture: decoded text of each stream and whether anything was dropped. */
export interface CapturedOutput {
  stdout: string;
  stderr: string;
  truncated: boolean;
}

/** Demultiplexes and caps one attach stream. Feed it every chunk with {@link OutputCapture.push}. */
export class OutputCapture {
  readonly #stdout: CappedBuffer;
  readonly #stderr: CappedBuffer;
  readonly #header = new Uint8Array(HEADER_BYTES);
  #headerFill = 0;
  #target: CappedBuffer | undefined;
  #targetIsStderr = false;
  #remaining = 0;
  #scanners: { stdout: StatusLineScanner; stderr: StatusLineScanner } | undefined;
  #onStatus: ((status: RunStatus) => void) | undefined;
  /** Every payload byte seen, kept or not. */
  totalBytes = 0;

  constructor(limitBytes: number) {
    this.#stdout = new CappedBuffer(limitBytes);
    this.#stderr = new CappedBuffer(limitBytes);
  }

  /**
   * Watches both streams for the supervisor's status line of the run with `nonce` (run-status.ts)
   * and calls `onStatus` once both have it: the run is over and all its output is here. The lines
   * themselves are left out of the result.
   */
  expectStatus(nonce: string, onStatus: (status: RunStatus) => void): void {
    this.#scanners = { stdout: new StatusLineScanner(nonce), stderr: new StatusLineScanner(nonce) };
    this.#onStatus = onStatus;
  }

  /** Consumes one chunk of the raw attach stream. */
  push(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#remaining === 0) {
        const take = Math.min(HEADER_BYTES - this.#headerFill, chunk.length - offset);
        this.#header.set(chunk.subarray(offset, offset + take), this.#headerFill);
        this.#headerFill += take;
        offset += take;
        if (this.#headerFill < HEADER_BYTES) return;
        this.#headerFill = 0;
        const view = new DataView(this.#header.buffer);
        // Stream 0 would be stdin, which Docker never sends back; count it with stdout rather than lose it.
        this.#targetIsStderr = this.#header[0] === 2;
        this.#target = this.#targetIsStderr ? this.#stderr : this.#stdout;
        this.#remaining = view.getUint32(4);
        continue;
      }
      const take = Math.min(this.#remaining, chunk.length - offset);
      const payload = chunk.subarray(offset, offset + take);
      this.#target?.push(payload);
      if (this.#scanners !== undefined) this.#scan(payload);
      this.totalBytes += take;
      this.#remaining -= take;
      offset += take;
    }
  }

  #scan(payload: Uint8Array): void {
    const scanners = this.#scanners;
    if (scanners === undefined) return;
    (this.#targetIsStderr ? scanners.stderr : scanners.stdout).push(payload);
    const { stdout, stderr } = scanners;
    if (stdout.status === undefined || stderr.status === undefined) return;
    this.#scanners = undefined;
    this.#stdout.endAt(stdout.lineStart);
    this.#stderr.endAt(stderr.lineStart);
    this.#onStatus?.(stdout.status);
  }

  /** Whether either stream has dropped bytes. */
  get truncated(): boolean {
    return this.#stdout.dropped > 0 || this.#stderr.dropped > 0;
  }

  /** The kept output, decoded as UTF-8. */
  result(): CapturedOutput {
    return { stdout: this.#stdout.text(), stderr: this.#stderr.text(), truncated: this.truncated };
  }
}
