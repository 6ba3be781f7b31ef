/**
 * Reading processes from /proc (Linux): resident memory, CPU time, and the process tree. Every
 * function answers null or an empty list where /proc is missing or the process is gone.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

/** Resident memory now (VmRSS) and its peak so far (VmHWM), in bytes; null when the process is gone. */
export function memoryOf(pid: number): { rss: number; hwm: number } | null {
  const text = readText(`/proc/${pid}/status`);
  if (text === null) return null;
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(text)?.[1];
  const hwm = /^VmHWM:\s+(\d+) kB/m.exec(text)?.[1];
  if (rss === undefined || hwm === undefined) return null;
  return { rss: Number(rss) * 1024, hwm: Number(hwm) * 1024 };
}

interface StatFields {
  ppid: number;
  /** User + system CPU time, in seconds. */
  cpuSeconds: number;
}

function readStat(pid: number): StatFields | null {
  const text = readText(`/proc/${pid}/stat`);
  if (text === null) return null;
  // The command name (field 2) may hold spaces and parentheses: the fields after it follow the last ")".
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const ppid = Number(rest[1]);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(ppid) || !Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return { ppid, cpuSeconds: (utime + stime) / TICKS_PER_SECOND };
}

/** CPU time (user + system) the process has used so far, in seconds. */
export function cpuSeconds(pid: number): number | null {
  return readStat(pid)?.cpuSeconds ?? null;
}

/** The whole machine's CPU time so far: busy and total, in seconds summed over all cores. */
export function machineCpuSeconds(): { busy: number; total: number } | null {
  const line = readText("/proc/stat")?.split("\n")[0];
  if (line === undefined || !line.startsWith("cpu ")) return null;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((sum, value) => sum + value, 0);
  // idle and iowait are the 4th and 5th values.
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: (total - idle) / TICKS_PER_SECOND, total: total / TICKS_PER_SECOND };
}

function commandLine(pid: number): string {
  return (readText(`/proc/${pid}/cmdline`) ?? "").replaceAll("\0", " ").trim();
}

/** Every descendant of `root` (children, their children, ...) with its command line. */
export function descendants(root: number): Array<{ pid: number; command: string }> {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const stat = readStat(pid);
    if (stat === null) continue;
    const siblings = children.get(stat.ppid) ?? [];
    siblings.push(pid);
    children.set(stat.ppid, siblings);
  }
  const found: Array<{ pid: number; command: string }> = [];
  const stack = [...(children.get(root) ?? [])];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    found.push({ pid, command: commandLine(pid) });
    stack.push(...(children.get(pid) ?? []));
  }
  return found;
}

/** The pids of the workerd processes this process started (wrangler's dev server runs one). */
export function workerdPids(root = process.pid): number[] {
  return descendants(root)
    .filter((proc) => /\bworkerd\b/.test(proc.command.split(" ")[0] ?? ""))
    .map((proc) => proc.pid);
}

/** The TCP ports `pid` listens on (IPv4), from its socket inodes and /proc/net/tcp. */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode !== undefined) inodes.add(inode);
      } catch {
        // The descriptor closed while we looked.
      }
    }
  } catch {
    return [];
  }
  const ports: number[] = [];
  for (const line of (readText("/proc/net/tcp") ?? "").split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    const state = fields[3];
    const inode = fields[9];
    if (local === undefined || state !== "0A" || inode === undefined || !inodes.has(inode)) continue;
    ports.push(Number.parseInt(local.split(":")[1] ?? "0", 16));
  }
  return ports;
}

/** CPU seconds each thread of `pid` has used so far, by thread id. */
export function threadCpuSeconds(pid: number): Map<number, number> {
  const threads = new Map<number, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return threads;
  }
  for (const tid of tids) {
    const text = readText(`/proc/${pid}/task/${tid}/stat`);
    if (text === null) continue;
    const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const seconds = (Number(rest[11]) + Number(rest[12])) / TICKS_PER_SECOND;
    if (Number.isFinite(seconds)) threads.set(Number(tid), seconds);
  }
  return threads;
}

/**
 * Pressure stall information: microseconds so far in which at least one task waited for the CPU
 * ("cpu") or for I/O ("io"). Null where the kernel does not provide it.
 */
export function pressureMicros(kind: "cpu" | "io"): number | null {
  const line = readText(`/proc/pressure/${kind}`)?.split("\n")[0];
  const total = line === undefined ? undefined : /total=(\d+)/.exec(line)?.[1];
  return total === undefined ? null : Number(total);
}

/** The scheduler state of one thread: R running or runnable, S sleeping, D waiting for I/O, ... */
export function threadState(pid: number, tid: number): string | null {
  const text = readText(`/proc/${pid}/task/${tid}/stat`);
  if (text === null) return null;
  return text.slice(text.lastIndexOf(")") + 2).split(" ")[0] ?? null;
}
