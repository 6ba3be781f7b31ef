/**
 * Removes the empty database files that the local runtime leaves for deleted Durable Objects.
 *
 * At retention a pipeline's object calls `deleteAll()`: workerd empties its SQLite database but
 * keeps the file, one 4 KB page per pipeline, so a local edge that has served 20,000 pipelines
 * holds 20,000 such files (docs/BENCHMARKS.md, "Soak"). An empty database and no database are the
 * same to workerd: it creates a fresh one for an id it is asked for. `npm start` and `npm run edge`
 * call this before wrangler starts, so the disk returns to what the live pipelines need.
 *
 * A file is removed only when all of this holds: it is one of workerd's object databases
 * (`v3/do/<namespace>/<64 hex>.sqlite`), it is exactly one page long, that page holds no table (its
 * schema b-tree has no cell), no write-ahead log or shared-memory file is beside it, and no process
 * has it open (read from /proc; where /proc cannot say, nothing is removed).
 */
import { closeSync, existsSync, openSync, readdirSync, readlinkSync, readSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";

/** The SQLite header's first 16 bytes. */
const SQLITE_MAGIC = "SQLite format 3\u0000";
/** Offset of page 1's b-tree header, right after the 100-byte database header. */
const FIRST_PAGE_BTREE = 100;
/** A leaf page of a table b-tree: page 1 of a database with no table, or with tables all on it. */
const LEAF_TABLE_PAGE = 0x0d;
const OBJECT_DATABASE = /^[0-9a-f]{64}\.sqlite$/;

/** The bytes that say whether a database is empty: its header and page 1's b-tree header. */
const HEAD_BYTES = FIRST_PAGE_BTREE + 8;

/**
 * True when a file of `fileSize` bytes that begins with `bytes` is a SQLite database of one page
 * whose schema is empty: no table, index or view is left in it. Anything else (another format,
 * more pages, a schema entry) is not empty.
 */
export function isEmptySqliteDatabase(bytes: Uint8Array, fileSize = bytes.length): boolean {
  if (bytes.length < HEAD_BYTES) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (new TextDecoder("latin1").decode(bytes.subarray(0, 16)) !== SQLITE_MAGIC) return false;
  // The page size is stored as a big-endian 16-bit number, with 1 standing for 65,536.
  const storedPageSize = view.getUint16(16);
  const pageSize = storedPageSize === 1 ? 65_536 : storedPageSize;
  if (fileSize !== pageSize) return false;
  // The header's page count holds only when the "version valid for" number matches the change
  // counter; a file of exactly one page is one page either way.
  if (view.getUint32(24) === view.getUint32(92) && view.getUint32(28) !== 1) return false;
  return view.getUint8(FIRST_PAGE_BTREE) === LEAF_TABLE_PAGE && view.getUint16(FIRST_PAGE_BTREE + 3) === 0;
}

/** The first {@link HEAD_BYTES} of `path` (fewer when it is shorter): all the check needs to read. */
function readHead(path: string): Uint8Array {
  const head = new Uint8Array(HEAD_BYTES);
  const fd = openSync(path, "r");
  try {
    return head.subarray(0, readSync(fd, head, 0, HEAD_BYTES, 0));
  } finally {
    closeSync(fd);
  }
}

/** Every file some process has open, from /proc/<pid>/fd; null where /proc cannot tell. */
function openFiles(): Set<string> | null {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  if (pids.length === 0) return null;
  const open = new Set<string>();
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // Gone, or another user's process: it cannot hold this user's files.
    }
    for (const fd of fds) {
      try {
        open.add(readlinkSync(`/proc/${pid}/fd/${fd}`));
      } catch {
        // Closed while we looked.
      }
    }
  }
  return open;
}

export interface PruneResult {
  /** Object databases looked at. */
  examined: number;
  removed: number;
  removedBytes: number;
  /** Why nothing was removed, when that was decided before looking at any file. */
  refusedBecause?: string;
}

/** Removes the empty object databases under `stateDir` (wrangler's `--persist-to` folder). */
export function pruneEmptyDatabases(stateDir: string): PruneResult {
  const result: PruneResult = { examined: 0, removed: 0, removedBytes: 0 };
  const objectsDir = join(stateDir, "v3", "do");
  let namespaces: string[];
  try {
    namespaces = readdirSync(objectsDir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(objectsDir, entry.name));
  } catch {
    return result; // No state yet.
  }
  const open = openFiles();
  if (open === null) return { ...result, refusedBecause: "cannot tell which files are open (no /proc)" };
  for (const namespace of namespaces) {
    let names: string[];
    try {
      names = readdirSync(namespace);
    } catch {
      continue;
    }
    const present = new Set(names);
    for (const name of names) {
      if (!OBJECT_DATABASE.test(name)) continue;
      result.examined += 1;
      const path = join(namespace, name);
      if (present.has(`${name}-wal`) || present.has(`${name}-shm`) || present.has(`${name}-journal`)) continue;
      if (open.has(path)) continue;
      let size: number;
      try {
        size = statSync(path).size;
      } catch {
        continue;
      }
      if (size > 65_536) continue;
      if (!isEmptySqliteDatabase(readHead(path), size)) continue;
      // Checked again at the last moment: a runtime that started meanwhile may have opened it.
      if (existsSync(`${path}-wal`)) continue;
      unlinkSync(path);
      result.removed += 1;
      result.removedBytes += size;
    }
  }
  return result;
}
