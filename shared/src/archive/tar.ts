/**
 * A minimal tar writer for a run's files: POSIX ustar headers, plus a pax extended header for a
 * path that does not fit ustar's name/prefix fields. Regular files only; GNU tar in the image
 * creates parent directories on extraction.
 */

/** One regular file in an archive: its relative path with `/` separators, and its exact bytes. */
export interface TarEntry {
  path: string;
  bytes: Uint8Array;
}

const BLOCK = 512;
const encoder = new TextEncoder();

function writeBytes(block: Uint8Array, offset: number, length: number, bytes: Uint8Array): void {
  block.set(bytes.subarray(0, length), offset);
}

function writeOctal(block: Uint8Array, offset: number, length: number, value: number): void {
  writeBytes(block, offset, length, encoder.encode(`${value.toString(8).padStart(length - 1, "0")}\0`));
}

function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

// ustar keeps a path as prefix (155 bytes) + "/" + name (100 bytes); undefined when it cannot.
function splitUstar(path: Uint8Array): { prefix: Uint8Array; name: Uint8Array } | undefined {
  if (path.length <= 100) return { prefix: new Uint8Array(0), name: path };
  const slash = 0x2f;
  for (let cut = Math.min(path.length - 1, 155); cut > 0; cut--) {
    if (path[cut] === slash && path.length - cut - 1 <= 100) {
      return { prefix: path.subarray(0, cut), name: path.subarray(cut + 1) };
    }
  }
  return undefined;
}

function header(name: Uint8Array, prefix: Uint8Array, size: number, type: string, mtime: number): Uint8Array {
  const block = new Uint8Array(BLOCK);
  writeBytes(block, 0, 100, name);
  writeOctal(block, 100, 8, 0o644);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, size);
  writeOctal(block, 136, 12, mtime);
  block.fill(0x20, 148, 156); // the checksum is summed with its own field as spaces
  block[156] = type.charCodeAt(0);
  writeBytes(block, 257, 6, encoder.encode("ustar\0"));
  writeBytes(block, 263, 2, encoder.encode("00"));
  writeBytes(block, 345, 155, prefix);
  let sum = 0;
  for (const byte of block) sum += byte;
  writeBytes(block, 148, 8, encoder.encode(`${sum.toString(8).padStart(6, "0")}\0 `));
  return block;
}

// A pax record is "<length> path=<value>\n" where <length> counts its own digits.
function paxPathRecord(path: Uint8Array): Uint8Array {
  const body = path.length + " path=\n".length;
  let length = body + String(body).length;
  if (String(length).length !== String(body).length) length += 1;
  const record = new Uint8Array(length);
  record.set(encoder.encode(`${length} path=`));
  record.set(path, length - path.length - 1);
  record[length - 1] = 0x0a;
  return record;
}

/** The tar archive (as the list of its pieces, to write in order) holding `files`. */
export function buildTar(files: readonly TarEntry[], mtime = new Date()): Uint8Array[] {
  const seconds = Math.floor(mtime.getTime() / 1000);
  const pieces: Uint8Array[] = [];
  for (const file of files) {
    const path = encoder.encode(file.path);
    let split = splitUstar(path);
    if (split === undefined) {
      const record = paxPathRecord(path);
      pieces.push(header(encoder.encode("PaxHeader"), new Uint8Array(0), record.length, "x", seconds));
      pieces.push(record, new Uint8Array(padded(record.length) - record.length));
      split = { prefix: new Uint8Array(0), name: path.subarray(path.length - Math.min(path.length, 100)) };
    }
    pieces.push(header(split.name, split.prefix, file.bytes.length, "0", seconds));
    pieces.push(file.bytes, new Uint8Array(padded(file.bytes.length) - file.bytes.length));
  }
  pieces.push(new Uint8Array(BLOCK * 2));
  return pieces;
}
