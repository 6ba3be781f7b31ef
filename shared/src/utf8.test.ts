import { describe, expect, it } from "vitest";
import { utf8Length } from "./utf8.ts";

const encoded = (text: string) => new TextEncoder().encode(text).length;

describe("utf8Length", () => {
  it("counts what a UTF-8 encoder writes, lone surrogates included", () => {
    const samples = ["", "ascii", "é", "€", "🙂", "a🙂b", "\u0000", "\ud83d", "\ud83dx", "\ude42", "x\ud83d\ud83d🙂"];
    for (const text of samples) expect(utf8Length(text), JSON.stringify(text)).toBe(encoded(text));
  });
});
