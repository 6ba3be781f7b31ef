import { describe, expect, it } from "vitest";
import { StatusLineScanner } from "./run-status.ts";

const NONCE = "0123456789abcdef0123456789abcdef";
const encoder = new TextEncoder();

function scan(text: string, chunk: number, nonce = NONCE): StatusLineScanner {
  const scanner = new StatusLineScanner(nonce);
  const bytes = encoder.encode(text);
  for (let at = 0; at < bytes.length; at += chunk) scanner.push(bytes.subarray(at, at + chunk));
  return scanner;
}

describe("the supervisor's status line", () => {
  it("is found at the end of the stream however it is split, and says where the program's output ends", () => {
    const output = "héllo\nno newline at the end";
    for (const chunk of [1, 2, 7, 64, 10_000]) {
      const scanner = scan(`${output}${NONCE} 3 0 0\n`, chunk);
      expect(scanner.status).toEqual({ exitCode: 3, signal: 0, oomKills: 0 });
      expect(scanner.lineStart).toBe(encoder.encode(output).length);
    }
  });

  it("reads a signal, an OOM count, and -1 as an unknown count", () => {
    expect(scan(`${NONCE} 137 9 1\n`, 5).status).toEqual({ exitCode: 137, signal: 9, oomKills: 1 });
    expect(scan(`${NONCE} 137 9 -1\n`, 5).status).toEqual({ exitCode: 137, signal: 9, oomKills: null });
  });

  it("ignores a line with another nonce and a malformed one", () => {
    const other = "fedcba9876543210fedcba9876543210";
    expect(scan(`${other} 0 0 0\n`, 3).status).toBeUndefined();
    expect(scan(`${NONCE} 0 0\n`, 3).status).toBeUndefined();
    expect(scan(`${NONCE} x 0 0\n`, 3).status).toBeUndefined();
    expect(scan(`x${NONCE.toUpperCase()} 0 0 0\n`, 3).status).toBeUndefined();
  });

  it("takes only a nonce of 32 lowercase hex digits", () => {
    expect(() => new StatusLineScanner("abc")).toThrow(/32 lowercase hex/);
    expect(() => new StatusLineScanner(`${NONCE.slice(1)}.`)).toThrow(/32 lowercase hex/);
  });
});
