/**
 * Every V8 isolate in workerd, over the runtime's own inspector: wrangler's dev server runs its
 * simulators (R2, KV, cache, D1, the assets router and server, the entry worker) as isolates of
 * their own next to the Worker's. A full garbage collection in each shows how much of workerd's
 * memory is garbage those isolates had not collected yet, rather than memory anything keeps.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { z } from "zod";
import { Inspector } from "./inspector.ts";
import { listeningPorts } from "./proc.ts";

const Targets = z.array(z.object({ id: z.string(), webSocketDebuggerUrl: z.string() }));
const HeapUsage = z.object({ usedSize: z.number(), totalSize: z.number() });
const STEP_TIMEOUT_MS = 5000;

export interface IsolateHeap {
  id: string;
  /** V8 heap used and committed, MB, after a full collection (null: the isolate did not answer). */
  used_mb: number | null;
  total_mb: number | null;
  /** Why it did not answer. */
  error?: string;
}

function within<T>(promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error("no answer")), STEP_TIMEOUT_MS)),
  ]);
}

async function targetsOf(pid: number): Promise<z.infer<typeof Targets>> {
  for (const port of listeningPorts(pid)) {
    try {
      const answer = await within(fetch(`http://127.0.0.1:${port}/json/list`));
      const parsed = Targets.safeParse(await answer.json());
      if (parsed.success) return parsed.data;
    } catch {
      // Not the inspector's port.
    }
  }
  return [];
}

/**
 * Collects garbage in every isolate of workerd `pid` except the Worker's own (an isolate takes one
 * inspector session at a time, and the soak's reads the Worker's), and reports each heap. It runs
 * in a child process: from the process that also runs wrangler the helper isolates never answered.
 */
export async function collectEveryIsolate(pid: number): Promise<IsolateHeap[]> {
  const { stdout } = await promisify(execFile)(process.execPath, [import.meta.filename, String(pid)], {
    timeout: 180_000,
  });
  return z
    .array(
      z.object({
        id: z.string(),
        used_mb: z.number().nullable(),
        total_mb: z.number().nullable(),
        error: z.string().optional(),
      }),
    )
    .parse(JSON.parse(stdout));
}

async function collect(pid: number, leaveOut: (id: string) => boolean): Promise<IsolateHeap[]> {
  const heaps: IsolateHeap[] = [];
  for (const target of await targetsOf(pid)) {
    if (leaveOut(target.id)) continue;
    let inspector: Inspector | null = null;
    try {
      inspector = await within(Inspector.connect(target.webSocketDebuggerUrl));
      // workerd's helper isolates answer nothing until a session enables Runtime; the enable
      // itself is not answered, so it is sent without waiting for its answer.
      void inspector.send("Runtime.enable");
      await inspector.collectGarbage(STEP_TIMEOUT_MS * 6);
      const usage = HeapUsage.parse(await within(inspector.send("Runtime.getHeapUsage")));
      heaps.push({ id: target.id, used_mb: mb(usage.usedSize), total_mb: mb(usage.totalSize) });
    } catch (error) {
      heaps.push({ id: target.id, used_mb: null, total_mb: null, error: String(error) });
    } finally {
      inspector?.close();
    }
  }
  return heaps;
}

function mb(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}

if (import.meta.main) {
  const heaps = await collect(Number(process.argv[2]), (id) => id.startsWith("core:user:"));
  process.stdout.write(JSON.stringify(heaps));
  process.exit(0);
}
