import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildTar } from "./tar.ts";

const dir = mkdtempSync(join(tmpdir(), "atomic-tar-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const encoder = new TextEncoder();

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
    execFileSync("tar", ["-x", "-f", archive, "-C", out]);
    for (const file of files) {
      expect(new Uint8Array(readFileSync(join(out, file.path)))).toEqual(file.bytes);
    }
    const listed = execFileSync("tar", ["-t", "-f", archive], { encoding: "utf8" }).trim().split("\n");
    expect(listed).toEqual(files.map((file) => file.path));
  });
});
