/**
 * Coalesces generated text into fewer, larger events: a fast model emits a token every few
 * hundred microseconds, and one frame (and one stored event at the edge) per token would cost
 * more than the tokens. Text waits at most `flushMs` or until `maxChars` have gathered.
 */
export class TokenBatcher {
  #buffer = "";
  #timer: NodeJS.Timeout | null = null;
  readonly #flushMs: number;
  readonly #maxChars: number;
  readonly #emit: (text: string) => void;

  constructor(emit: (text: string) => void, options: { flushMs?: number; maxChars?: number } = {}) {
    this.#emit = emit;
    this.#flushMs = options.flushMs ?? 10;
    this.#maxChars = options.maxChars ?? 16_384;
  }

  push(text: string): void {
    if (text === "") return;
    this.#buffer += text;
    if (this.#buffer.length >= this.#maxChars || this.#flushMs <= 0) {
      this.flush();
      return;
    }
    this.#timer ??= setTimeout(() => this.flush(), this.#flushMs);
  }

  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    while (this.#buffer.length > 0) {
      const piece = this.#buffer.slice(0, this.#maxChars);
      this.#buffer = this.#buffer.slice(piece.length);
      this.#emit(piece);
    }
  }
}
