/**
 * What a soak samples every few seconds: each process's resident memory (RSS from /proc/<pid>/status,
 * PSS and private bytes from /proc/<pid>/smaps_rollup), its open file descriptors, and the edge's
 * local state on disk (bytes and files, in all and for the pipelines' Durable Objects alone).
 */
import { readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";

export interface ProcessSample {
  rss_mb: number;
  /** Proportional set size: shared pages divided among the processes that map them (null: no smaps_rollup). */
  pss_mb: number | null;
  /** Private_Clean + Private_Dirty: what this process alone keeps resident. */
  private_mb: number | null;
  /** Anonymous memory (heap, not the binary or mapped files). */
  anon_mb: number | null;
  /** Open file descriptors (/proc/<pid>/fd). */
  fds: number | null;
}

export interface DiskSample {
  bytes: number;
  files: number;
  /** The PipelineDO namespace's directory alone: one SQLite database (and its WAL) per live pipeline. */
  pipeline_do_files: number;
  pipeline_do_bytes: number;
  /**
   * PipelineDO databases that still hold data: larger than one SQLite page, or with a WAL. A purged
   * pipeline's object leaves an empty one-page database file behind (workerd's deleteAll() empties
   * the database but does not remove its file); those are not counted here.
   */
  pipeline_do_live: number;
  /** R2 objects' blob files (the pipelines' artifacts). */
  r2_blobs: number;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

function kb(text: string, field: string): number | null {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1];
  return match === undefined ? null : Number(match);
}

function mb(kib: number): number {
  return Math.round((kib / 1024) * 10) / 10;
}

/** One process now; null when it is gone. */
export function sampleProcess(pid: number): ProcessSample | null {
  const status = readText(`/proc/${pid}/status`);
  const rss = status === null ? null : kb(status, "VmRSS");
  if (rss === null) return null;
  const rollup = readText(`/proc/${pid}/smaps_rollup`);
  const pss = rollup === null ? null : kb(rollup, "Pss");
  const clean = rollup === null ? null : kb(rollup, "Private_Clean");
  const dirty = rollup === null ? null : kb(rollup, "Private_Dirty");
  const anon = rollup === null ? null : kb(rollup, "Anonymous");
  let fds: number | null = null;
  try {
    fds = readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    // Not ours to read, or gone.
  }
  return {
    rss_mb: mb(rss),
    pss_mb: pss === null ? null : mb(pss),
    private_mb: clean === null || dirty === null ? null : mb(clean + dirty),
    anon_mb: anon === null ? null : mb(anon),
    fds,
  };
}

/** Open descriptors of `pid` by what they point at: SQLite files of each kind, sockets, other. */
export function fdKinds(pid: number): Record<string, number> {
  const kinds: Record<string, number> = {};
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return kinds;
  }
  for (const fd of fds) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    const kind = target.startsWith("socket:")
      ? "socket"
      : target.startsWith("pipe:")
        ? "pipe"
        : target.startsWith("anon_inode:")
          ? target
          : /PipelineDO/.test(target)
            ? `PipelineDO ${suffix(target)}`
            : /\/do\//.test(target)
              ? `other DO ${suffix(target)}`
              : /\/r2\//.test(target)
                ? `R2 ${suffix(target)}`
                : "other file";
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  return kinds;
}

function suffix(path: string): string {
  return /(-wal|-shm|\.sqlite|\.sqlite-journal)$/.exec(path)?.[1] ?? "file";
}

/** workerd's SQLite page size: an emptied database is one page. */
const SQLITE_PAGE = 4096;

/** Bytes and files under `dir`; the PipelineDO namespace's directory counted apart as well. */
export function sampleDisk(dir: string): DiskSample {
  const disk: DiskSample = {
    bytes: 0,
    files: 0,
    pipeline_do_files: 0,
    pipeline_do_bytes: 0,
    pipeline_do_live: 0,
    r2_blobs: 0,
  };
  const walk = (path: string, pipelines: boolean, blobs: boolean) => {
    let entries;
    try {
      entries = readdirSync(path, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) {
        walk(
          child,
          pipelines || entry.name.endsWith("PipelineDO"),
          blobs || (entry.name === "blobs" && /\/r2\//.test(child)),
        );
      } else if (entry.isFile()) {
        let size: number;
        try {
          size = statSync(child).size;
        } catch {
          continue; // Deleted while we looked.
        }
        disk.files += 1;
        disk.bytes += size;
        if (blobs) disk.r2_blobs += 1;
        if (pipelines) {
          disk.pipeline_do_files += 1;
          disk.pipeline_do_bytes += size;
          const database = /^[0-9a-f]{64}\.sqlite(-wal)?$/.exec(entry.name);
          if (database && (database[1] === "-wal" || size > SQLITE_PAGE)) disk.pipeline_do_live += 1;
        }
      }
    }
  };
  walk(dir, false, false);
  return disk;
}
