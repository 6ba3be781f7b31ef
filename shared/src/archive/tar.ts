/**
 * A minimal tar writer, the one both sides use: the host-agent streams a run's files into a
 * container, the edge bundles a pipeline's artifacts for download. POSIX ustar headers, plus a pax
 * extended header for a path that does not fit ustar's name/prefix fields. Regular files only; GNU
 * tar creates parent directories on extraction.
 *
 * Every length here is a UTF-8 byte count, never a string index: the header fields are bytes, and a
 * path cut by characters overruns them as soon as it holds a non-ASCII character. Only web APIs
 * (TextEncoder, Uint8Array), so it runs in the Workers runtime as well as in Node.
 */

/** One regular file in an archive: its relative path with `/` separators, and its exact bytes. */
export interface TarEntry {
  path: string;
  bytes: Uint8Array;
}

const BLOCK = 512;
const NAME_BYTES = 100;
const PREFIX_BYTES = 155;
const SLASH = 0x2f;
const encoder = new TextEncoder();

function writeBytes(block: Uint8Array, offset: number, length: number, bytes: Uint8Array): void {
  block.set(bytes.subarray(0, length), offset);
}

function writeOctal(block: Uint8Array, offset: number, length: number, value: number): void {
  writeBytes(block, offset, length, encoder.encode(`${value.toString(8).padStart(length - 1, "0")}\0`));
}

function padding(size: number): Uint8Array {
  return new Uint8Array(Math.ceil(size / BLOCK) * BLOCK - size);
}

// ustar keeps a path as prefix (155 bytes) + "/" + name (100 bytes); undefined when it cannot.
// Cutting only at a "/" (ASCII, never inside a UTF-8 sequence) keeps both halves whole characters.
function splitUstar(path: Uint8Array): { prefix: Uint8Array; name: Uint8Array } | undefined {
  if (path.length <= NAME_BYTES) return { prefix: new Uint8Array(0), name: path };
  for (let cut = Math.min(path.length - 1, PREFIX_BYTES); cut > 0; cut--) {
    if (path[cut] === SLASH && path.length - cut - 1 <= NAME_BYTES) {
      return { prefix: path.subarray(0, cut), name: path.subarray(cut + 1) };
    }
  }
  return undefined;
}

// The ustar name beside a pax header, read only by tools that ignore pax: the path's last 100
// bytes, started on a character boundary (not on a UTF-8 continuation byte, 0b10xxxxxx).
function fallbackName(path: Uint8Array): Uint8Array {
  let start = Math.max(0, path.length - NAME_BYTES);
  while (start < path.length && ((path[start] ?? 0) & 0xc0) === 0x80) start++;
  return path.subarray(start);
}

function header(name: Uint8Array, prefix: Uint8Array, size: number, type: string, mtime: number): Uint8Array {
  const block = new Uint8Array(BLOCK);
  writeBytes(block, 0, NAME_BYTES, name);
  writeOctal(block, 100, 8, 0o644);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, size);
  writeOctal(block, 136, 12, mtime);
  block.fill(0x20, 148, 156); // the checksum is summed with its own field as spaces
  block[156] = type.charCodeAt(0);
  writeBytes(block, 257, 6, encoder.encode("ustar\0"));
  writeBytes(block, 263, 2, encoder.encode("00"));
  writeBytes(block, 345, PREFIX_BYTES, prefix);
  let sum = 0;
  for (const byte of block) sum += byte;
  writeBytes(block, 148, 8, encoder.encode(`${sum.toString(8).padStart(6, "0")}\0 `));
  return block;
}

/**
 * The pax extended-header record `"<length> path=<path>\n"`, whose decimal `<length>` counts the
 * whole record, its own digits included. Exported for its tests: no path that needs pax is short
 * enough to reach the 2-to-3-digit step, so the arithmetic is checked here directly.
 */
export function paxPathRecord(path: Uint8Array): Uint8Array {
  const body = path.length + " path=\n".length;
  let length = body + String(body).length;
  // Adding the digits can carry into one more digit (97 + 2 = 99, but 98 + 2 = 100 needs 3): the
  // record then grows by that digit, which never carries again.
  if (String(length).length !== String(body).length) length += 1;
  const record = new Uint8Array(length);
  record.set(encoder.encode(`${length} path=`));
  record.set(path, length - path.length - 1);
  record[length - 1] = 0x0a;
  return record;
}

/**
 * The tar archive holding `files`, as the list of its pieces to write in order (the file bytes
 * are not copied). Every file gets mode 0644, owner 0:0 and `mtime`.
 */
export function buildTar(files: readonly TarEntry[], mtime = new Date()): Uint8Array[] {
  const seconds = Math.floor(mtime.getTime() / 1000);
  const pieces: Uint8Array[] = [];
  for (const file of files) {
    const path = encoder.encode(file.path);
    let split = splitUstar(path);
    if (split === undefined) {
      const record = paxPathRecord(path);
      pieces.push(header(encoder.encode("PaxHeader"), new Uint8Array(0), record.length, "x", seconds));
      pieces.push(record, padding(record.length));
      split = { prefix: new Uint8Array(0), name: fallbackName(path) };
    }
    pieces.push(header(split.name, split.prefix, file.bytes.length, "0", seconds));
    pieces.push(file.bytes, padding(file.bytes.length));
  }
  pieces.push(new Uint8Array(BLOCK * 2));
  return pieces;
}

/** {@link buildTar} as one contiguous archive, for a caller that stores or hashes it whole. */
export function buildTarBytes(files: readonly TarEntry[], mtime = new Date()): Uint8Array<ArrayBuffer> {
  const pieces = buildTar(files, mtime);
  const archive = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
  let offset = 0;
  for (const piece of pieces) {
    archive.set(piece, offset);
    offset += piece.length;
  }
  return archive;
}
