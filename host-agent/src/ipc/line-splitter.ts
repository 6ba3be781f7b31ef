import { IpcError } from "./ipc-error.ts";
import type { HostMessage } from "./protocol.ts";

const NEWLINE = 0x0a;

/** What one complete line of input turned out to be. */
export type LineEvent =
  | { kind: "line"; text: string }
  /** The line passed the cap; its bytes up to the next newline are discarded. */
  | { kind: "too_long"; bytes: number }
  | { kind: "bad_utf8" };

/**
 * Cuts a byte stream into newline-terminated lines of at most `maxLineBytes` bytes (newline not
 * counted). Bytes are split before decoding: a newline byte never occurs inside a multi-byte
 * UTF-8 sequence, so each line decodes on its own. An overlong line is reported as soon as it
 * passes the cap and never held in memory past it.
 */
export class LineSplitter {
  readonly maxLineBytes: number;
  #parts: Buffer[] = [];
  #size = 0;
  /** While skipping the rest of an overlong line: its bytes so far; 0 otherwise. */
  #discarding = 0;
  readonly #decoder = new TextDecoder("utf-8", { fatal: true });

  constructor(maxLineBytes: number) {
    this.maxLineBytes = maxLineBytes;
  }

  /** Bytes held for a line not finished yet. */
  get pendingBytes(): number {
    return this.#size;
  }

  push(chunk: Buffer): LineEvent[] {
    const events: LineEvent[] = [];
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      const end = newline < 0 ? chunk.length : newline;
      if (this.#discarding > 0) {
        this.#discarding += end - start;
      } else if (this.#size + (end - start) > this.maxLineBytes) {
        events.push({ kind: "too_long", bytes: this.#size + (end - start) });
        this.#discarding = this.#size + (end - start);
        this.#parts = [];
        this.#size = 0;
      } else if (end > start) {
        // A partial line is copied: a slice would keep the whole chunk alive until the line ends.
        const part = chunk.subarray(start, end);
        this.#parts.push(newline < 0 ? Buffer.from(part) : part);
        this.#size += end - start;
      }
      if (newline < 0) break;
      if (this.#discarding > 0) {
        this.#discarding = 0;
      } else {
        events.push(this.#finishLine());
      }
      start = newline + 1;
    }
    return events;
  }

  #finishLine(): LineEvent {
    const bytes = Buffer.concat(this.#parts, this.#size);
    this.#parts = [];
    this.#size = 0;
    try {
      return { kind: "line", text: this.#decoder.decode(bytes) };
    } catch (error) {
      if (error instanceof TypeError) return { kind: "bad_utf8" };
      throw error;
    }
  }
}

/** A message as one line of UTF-8 JSON; refuses one longer than the protocol allows. */
export function encodeLine(message: HostMessage, maxLineBytes: number): Buffer {
  const line = Buffer.from(JSON.stringify(message) + "\n", "utf8");
  if (line.length - 1 > maxLineBytes) {
    throw new IpcError(
      "invalid_request",
      `the ${message.type} message is ${line.length - 1} bytes, over the ${maxLineBytes}-byte line limit`,
      false,
    );
  }
  return line;
}
