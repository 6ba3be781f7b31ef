import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildTar, buildTarBytes, paxPathRecord, type TarEntry } from "./tar.ts";

const dir = mkdtempSync(join(tmpdir(), "atomic-tar-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const encoder = new TextEncoder();
const decoder = new TextDecoder();
// GNU tar converts pax paths (UTF-8) to the locale's charset: pin a UTF-8 locale so the test does
// not depend on the shell it runs from.
const TAR_ENV = { ...process.env, LC_ALL: "C.UTF-8" };
let archives = 0;

/** Writes `archive`, extracts it with GNU tar and checks every file's bytes and the listing. */
function expectGnuTarReads(archive: Uint8Array, files: readonly TarEntry[]): void {
  const name = `a${++archives}`;
  const path = join(dir, `${name}.tar`);
  writeFileSync(path, archive);
  const out = join(dir, name);
  mkdirSync(out);
  execFileSync("tar", ["-x", "-f", path, "-C", out], { env: TAR_ENV });
  for (const file of files) {
    expect(new Uint8Array(readFileSync(join(out, file.path))), file.path).toEqual(file.bytes);
  }
  const listed = execFileSync("tar", ["-t", "-f", path], { encoding: "utf8", env: TAR_ENV }).trim().split("\n");
  expect(listed).toEqual(files.map((file) => file.path));
}

// Throws on bytes that are not UTF-8, such as a name cut inside a character.
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * The archive's headers in order: type flag, ustar name (what a reader that ignores pax shows, so
 * it must be whole UTF-8) and size, with the record of each pax header.
 */
function headers(archive: Uint8Array): Array<{ type: string; name: string; size: number; pax?: string }> {
  const found: Array<{ type: string; name: string; size: number; pax?: string }> = [];
  let offset = 0;
  while (offset + 512 <= archive.length && archive[offset] !== 0) {
    const block = archive.subarray(offset, offset + 512);
    const size = parseInt(decoder.decode(block.subarray(124, 135)), 8);
    const type = String.fromCharCode(block[156] ?? 0);
    const nameField = block.subarray(0, 100);
    const nul = nameField.indexOf(0);
    const name = strictDecoder.decode(nul < 0 ? nameField : nameField.subarray(0, nul));
    const data = archive.subarray(offset + 512, offset + 512 + size);
    found.push(type === "x" ? { type, name, size, pax: decoder.decode(data) } : { type, name, size });
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return found;
}

const file = (path: string, text = path): TarEntry => ({ path, bytes: encoder.encode(text) });

describe("tar writer", () => {
  it("writes archives GNU tar extracts byte for byte, long and non-ASCII paths included", () => {
    // A last component over 100 bytes fits no ustar name/prefix split: it needs a pax header.
    const longPath = `dir/${"f".repeat(150)}.txt`;
    const files = [
      { path: "main.py", bytes: encoder.encode("print('hi')\n") },
      { path: "empty", bytes: new Uint8Array(0) },
      { path: "données/é✓.txt", bytes: encoder.encode("no newline at the end") },
      { path: `${"p".repeat(120)}/${"n".repeat(90)}`, bytes: encoder.encode("split into prefix and name") },
      { path: longPath, bytes: encoder.encode("x".repeat(513)) },
      { path: "bin", bytes: Uint8Array.from({ length: 256 }, (_, i) => i) },
    ];
    const archive = join(dir, "a.tar");
    writeFileSync(archive, Buffer.concat(buildTar(files)));
    const out = join(dir, "out");
    execFileSync("mkdir", ["-p", out]);
    execFileSync("tar", ["-x", "-f", archive, "-C", out], { env: TAR_ENV });
    for (const file of files) {
      expect(new Uint8Array(readFileSync(join(out, file.path)))).toEqual(file.bytes);
    }
    const listed = execFileSync("tar", ["-t", "-f", archive], { encoding: "utf8", env: TAR_ENV }).trim().split("\n");
    expect(listed).toEqual(files.map((file) => file.path));
    // The edge stores the archive whole: the same bytes as the pieces the host-agent streams.
    const mtime = new Date(1_700_000_000_000);
    expect(buildTarBytes(files, mtime)).toEqual(new Uint8Array(Buffer.concat(buildTar(files, mtime))));
  });

  it("keeps a non-ASCII path that fits ustar's fields counted in characters but not in bytes", () => {
    // 100 "é" are 100 characters but 200 bytes: a prefix cut by characters overruns ustar's 155.
    const files = [
      file(`${"é".repeat(100)}/main.py`, "print('é')\n"),
      file(`d/${"é".repeat(51)}`),
      // Its last 100 bytes start inside an "é": the ustar name beside the pax header skips that byte.
      file(`d/${"é".repeat(51)}.py`),
    ];
    const archive = buildTarBytes(files);
    expectGnuTarReads(archive, files);
    expect(headers(archive).map((h) => [h.type, h.name])).toEqual([
      ["x", "PaxHeader"],
      ["0", `${"é".repeat(46)}/main.py`],
      ["x", "PaxHeader"],
      ["0", "é".repeat(50)],
      ["x", "PaxHeader"],
      ["0", `${"é".repeat(48)}.py`],
    ]);
  });

  it("uses ustar's fields to their last byte and pax one byte past them", () => {
    const ustar = [
      file("n".repeat(100)), // a name of exactly 100 bytes, no NUL after it
      file(`dir/${"n".repeat(100)}`),
      file(`${"n".repeat(98)}é`), // 100 bytes, the last character two of them
      file(`${"p".repeat(155)}/main.py`), // a prefix of exactly 155 bytes
      file(`${"p".repeat(153)}é/main.py`),
      file(`${"p".repeat(155)}/${"n".repeat(100)}`), // both full: the longest ustar path, 256 bytes
      file(`${"é".repeat(77)}p/${"é".repeat(50)}`),
    ];
    const pax = [
      file("n".repeat(101)),
      file(`${"n".repeat(99)}é`), // "é" straddles byte 100
      file(`${"p".repeat(156)}/main.py`),
      file(`${"p".repeat(154)}é/main.py`), // "é" straddles byte 155
      file(`${"p".repeat(155)}/${"n".repeat(99)}é`),
      file(`${"a".repeat(100)}/${"b".repeat(100)}/${"c".repeat(60)}`), // 262 bytes: over 255 in all
      file(`${"é".repeat(100)}/${"ü".repeat(100)}/${"✓".repeat(80)}.txt`),
    ];
    const files = [...ustar, ...pax];
    const archive = buildTarBytes(files);
    expectGnuTarReads(archive, files);
    expect(headers(archive).map((h) => h.type)).toEqual([...ustar.map(() => "0"), ...pax.flatMap(() => ["x", "0"])]);
  });

  it("pads file data to whole blocks, an empty file and a file of exactly one block included", () => {
    const sizes = [0, 1, 511, 512, 513, 1024];
    const files = sizes.map((size) => ({
      path: `size-${size}`,
      bytes: Uint8Array.from({ length: size }, (_, i) => (i * 7 + size) % 256),
    }));
    const archive = buildTarBytes(files);
    expectGnuTarReads(archive, files);
    const blocks = sizes.reduce((sum, size) => sum + 1 + Math.ceil(size / 512), 2);
    expect(archive.length).toBe(blocks * 512);
  });

  it("counts a pax record's own digits in its length, across the steps to one more digit", () => {
    for (let n = 0; n <= 12_000; n++) {
      const record = paxPathRecord(new Uint8Array(n).fill(0x61));
      const text = decoder.decode(record);
      expect(text, `path of ${n} bytes`).toBe(`${record.length} path=${"a".repeat(n)}\n`);
    }
    // A 90-byte path makes a 99-byte record; one byte more needs a third digit, so no record is
    // 100 bytes long (nor 1000, nor 10000).
    const lengths = [90, 91, 92, 989, 990, 991, 9988, 9989].map((n) => paxPathRecord(new Uint8Array(n)).length);
    expect(lengths).toEqual([99, 101, 102, 999, 1001, 1002, 9999, 10_001]);
  });

  it("writes pax records GNU tar reads on both sides of the 999/1001-byte step", () => {
    // Paths of 989, 990 and 991 bytes (in segments under NAME_MAX) make records of 999, 1001, 1002.
    const head = `${"s".repeat(199)}/`.repeat(4);
    const files = [989, 990, 991].map((total) => file(`${head}${"t".repeat(total - head.length - 3)}.py`));
    files.push(file(`${`${"é".repeat(99)}/`.repeat(4)}${"é".repeat(95)}a.py`)); // 990 bytes, non-ASCII
    expect(files.map((f) => encoder.encode(f.path).length)).toEqual([989, 990, 991, 990]);
    const archive = buildTarBytes(files);
    expectGnuTarReads(archive, files);
    const records = headers(archive).flatMap((h) => (h.type === "x" ? [{ size: h.size, pax: h.pax }] : []));
    const sizes = [999, 1001, 1002, 1001];
    expect(records).toEqual(files.map((f, i) => ({ size: sizes[i], pax: `${sizes[i]} path=${f.path}\n` })));
  });
});
