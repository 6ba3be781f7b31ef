/**
 * What workerd's memory allocator holds, read with gdb (`npm run soak -- --allocator`). workerd is
 * linked with Google's tcmalloc; its C entry points (MallocExtension_Internal_*) answer how many
 * bytes the runtime has allocated and in use now, and how many freed bytes tcmalloc keeps resident
 * in its page heap and caches instead of giving them back to the system. gdb stops the process for
 * about a second per reading, so this is for investigation, not for every sample. Null when gdb is
 * missing or may not attach.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface AllocatorSample {
  /** Bytes the runtime (V8's malloc'd parts, SQLite, KJ, the actors' state) has allocated and not freed. */
  in_use_mb: number;
  /** Bytes tcmalloc has resident: in use plus its free lists and metadata. */
  physical_mb: number;
  /** Freed bytes kept in tcmalloc's page heap, central, transfer and thread caches (resident, not returned). */
  free_held_mb: number;
  /** Bytes tcmalloc has returned to the system so far (0: it never releases). */
  unmapped_mb: number;
  /** tcmalloc's background release rate, bytes per second (0: no background release). */
  release_rate: number;
}

const PROPERTIES = [
  "generic.current_allocated_bytes",
  "generic.physical_memory_used",
  "tcmalloc.pageheap_free_bytes",
  "tcmalloc.pageheap_unmapped_bytes",
  "tcmalloc.central_cache_free",
  "tcmalloc.transfer_cache_free",
  "tcmalloc.thread_cache_free",
  "tcmalloc.cpu_free",
];

function script(release: boolean): string {
  const lines = ["set pagination off", "set confirm off", "set $v = (unsigned long*) malloc(8)"];
  if (release) lines.push("call (void) MallocExtension_Internal_ReleaseMemoryToSystem((unsigned long) -1)");
  for (const name of PROPERTIES) {
    lines.push(
      "set *$v = 0",
      `call (int) MallocExtension_Internal_GetNumericProperty("${name}", ${name.length}, $v)`,
      `printf "PROP ${name} %lu\\n", *$v`,
    );
  }
  lines.push(
    'printf "PROP release_rate %lu\\n", (unsigned long) MallocExtension_Internal_GetBackgroundReleaseRate()',
    "call (void) free($v)",
    "detach",
    "quit",
  );
  return `${lines.join("\n")}\n`;
}

/** Reads tcmalloc's figures of `pid`; with `release`, first asks tcmalloc to give every free page back. */
export function allocatorOf(pid: number, release = false): AllocatorSample | null {
  const dir = mkdtempSync(join(tmpdir(), "atomic-soak-gdb-"));
  try {
    const file = join(dir, "tcmalloc.gdb");
    writeFileSync(file, script(release));
    const output = execFileSync("gdb", ["-p", String(pid), "-batch", "-nx", "-x", file], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 60_000,
    });
    const values = new Map<string, number>();
    for (const match of output.matchAll(/^PROP (\S+) (\d+)$/gm)) values.set(match[1]!, Number(match[2]));
    const get = (name: string) => values.get(name) ?? Number.NaN;
    const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
    if (!values.has("generic.current_allocated_bytes")) return null;
    return {
      in_use_mb: mb(get("generic.current_allocated_bytes")),
      physical_mb: mb(get("generic.physical_memory_used")),
      free_held_mb: mb(
        get("tcmalloc.pageheap_free_bytes") +
          get("tcmalloc.central_cache_free") +
          get("tcmalloc.transfer_cache_free") +
          get("tcmalloc.thread_cache_free") +
          get("tcmalloc.cpu_free"),
      ),
      unmapped_mb: mb(get("tcmalloc.pageheap_unmapped_bytes")),
      release_rate: get("release_rate"),
    };
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
