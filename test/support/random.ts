/** A small seeded PRNG (mulberry32), so a fuzz run can be repeated exactly from its seed. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ' "{}[]:,\\/\n\t0123456789abcdefxyz-_.éλ🙂\u0000\u001f';

/** Generators of hostile values: random JSON, near-JSON, huge strings, odd types. */
export class Fuzzer {
  readonly random: () => number;
  constructor(seed: number) {
    this.random = seeded(seed);
  }
  int(max: number): number {
    return Math.floor(this.random() * max);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  string(maxLength = 40): string {
    let out = "";
    const length = this.int(maxLength);
    for (let i = 0; i < length; i++) out += ALPHABET[this.int(ALPHABET.length)];
    return out;
  }
  value(depth = 0): unknown {
    const kinds = depth > 3 ? 5 : 8;
    switch (this.int(kinds)) {
      case 0:
        return null;
      case 1:
        return this.random() < 0.5;
      case 2:
        return this.pick([0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER, 42]);
      case 3:
        return this.string();
      case 4:
        return this.pick(["", "low", "high", "normal", "python", "hello", "v", "1"]);
      case 5:
        return Array.from({ length: this.int(4) }, () => this.value(depth + 1));
      default: {
        const out: Record<string, unknown> = {};
        for (let i = 0; i < this.int(5); i++)
          out[this.pick(["prompt", "metadata", "priority", "async", "type", "v", "job_id", "seq", this.string(8)])] =
            this.value(depth + 1);
        return out;
      }
    }
  }
  /** A body: valid-ish JSON, mangled JSON, or noise. */
  body(): string {
    const json = JSON.stringify(this.value());
    switch (this.int(4)) {
      case 0:
        return json ?? "null";
      case 1:
        return (json ?? "").slice(0, this.int((json ?? "").length + 1));
      case 2:
        return this.string(200);
      default:
        return JSON.stringify({
          prompt: this.value(),
          metadata: this.value(),
          priority: this.value(),
          async: this.value(),
        });
    }
  }
}
