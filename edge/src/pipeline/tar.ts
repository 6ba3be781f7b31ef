/**
 * A minimal POSIX ustar writer: enough to bundle a pipeline's files into one download that every
 * `tar` reads. Paths up to 255 bytes (prefix + name split), regular files only.
 */
const BLOCK = 512;
const encoder = new TextEncoder();

function writeString(block: Uint8Array, offset: number, length: number, value: string): void {
  const bytes = encoder.encode(value);
  block.set(bytes.subarray(0, length), offset);
}

function writeOctal(block: Uint8Array, offset: number, length: number, value: number): void {
  writeString(block, offset, length, `${value.toString(8).padStart(length - 1, "0")}\0`);
}

function splitPath(path: string): { prefix: string; name: string } {
  if (encoder.encode(path).length <= 100) return { prefix: "", name: path };
  const cut = path.lastIndexOf("/", 155);
  if (cut <= 0 || encoder.encode(path.slice(cut + 1)).length > 100) {
    throw new Error(`path too long for a tar entry: ${path}`);
  }
  return { prefix: path.slice(0, cut), name: path.slice(cut + 1) };
}

function header(path: string, size: number, mtimeSeconds: number): Uint8Array {
  const block = new Uint8Array(BLOCK);
  const { prefix, name } = splitPath(path);
  writeString(block, 0, 100, name);
  writeOctal(block, 100, 8, 0o644);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, size);
  writeOctal(block, 136, 12, mtimeSeconds);
  block.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  block[156] = 0x30; // '0': regular file
  writeString(block, 257, 6, "ustar\0");
  writeString(block, 263, 2, "00");
  writeString(block, 345, 155, prefix);
  let sum = 0;
  for (const byte of block) sum += byte;
  writeString(block, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return block;
}

/** Builds a tar archive of `files` (paths relative, already validated). */
export function buildTar(files: ReadonlyArray<{ path: string; bytes: Uint8Array }>, mtime = new Date()): Uint8Array {
  const seconds = Math.floor(mtime.getTime() / 1000);
  let total = BLOCK * 2;
  for (const file of files) total += BLOCK + Math.ceil(file.bytes.length / BLOCK) * BLOCK;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const file of files) {
    out.set(header(file.path, file.bytes.length, seconds), offset);
    offset += BLOCK;
    out.set(file.bytes, offset);
    offset += Math.ceil(file.bytes.length / BLOCK) * BLOCK;
  }
  return out;
}
