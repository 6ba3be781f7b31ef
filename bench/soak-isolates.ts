/**
 * Every V8 isolate in workerd, over the runtime's own inspector: wrangler's dev server runs its
 * simulators (R2, KV, cache, D1, the assets router and server, the entry worker) as isolates of
 * their own next to the Worker's. A full garbage collection in each shows how much of workerd's
 * memory is garbage those isolates had not collected yet, rather than memory anything keeps.
 */
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
 * Collects garbage in every isolate of workerd `pid` except those in `skip` (an isolate takes one
 * inspector session at a time: the soak's own session reads the Worker's), and reports each heap.
 */
export async function collectEveryIsolate(pid: number, skip: (id: string) => boolean): Promise<IsolateHeap[]> {
  const heaps: IsolateHeap[] = [];
  for (const target of await targetsOf(pid)) {
    if (skip(target.id)) continue;
    let inspector: Inspector | null = null;
    try {
      inspector = await within(Inspector.connect(target.webSocketDebuggerUrl));
      await within(inspector.send("Runtime.enable"));
      await within(inspector.send("HeapProfiler.collectGarbage"));
      const usage = HeapUsage.parse(await within(inspector.send("Runtime.getHeapUsage")));
      heaps.push({ id: target.id, used_mb: mb(usage.usedSize), total_mb: mb(usage.totalSize) });
    } catch {
      heaps.push({ id: target.id, used_mb: null, total_mb: null });
    } finally {
      inspector?.close();
    }
  }
  return heaps;
}

function mb(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}
