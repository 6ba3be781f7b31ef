/** Reading a pipeline's event log: SSE frames into events, and the model's first answer out of them. */
import { ClientEvent } from "../../shared/src/index.ts";

/**
 * Cuts complete SSE blocks off the front of `buffer`: the events they carry (a block without
 * `data:`, such as `retry: 2000`, carries none; data that is not a client event is skipped) and
 * what is left, an incomplete block, to prepend to the next bytes.
 */
export function takeSseEvents(buffer: string): { events: ClientEvent[]; rest: string } {
  const events: ClientEvent[] = [];
  const normalized = buffer.replace(/\r\n/g, "\n");
  const blocks = normalized.split("\n\n");
  const rest = blocks.pop() ?? "";
  for (const block of blocks) {
    const data = block
      .split("\n")
      .filter((line) => line.startsWith("data:"))
      .map((line) => line.slice(line.startsWith("data: ") ? 6 : 5));
    if (data.length === 0) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.join("\n"));
    } catch {
      continue;
    }
    const event = ClientEvent.safeParse(parsed);
    if (event.success) events.push(event.data);
  }
  return { events, rest };
}

/** The events in `seq` order, each once (a reconnect may replay some). Events without `seq` are dropped. */
export function orderedEvents(events: readonly ClientEvent[]): ClientEvent[] {
  const bySeq = new Map<number, ClientEvent>();
  for (const event of events) {
    if (event.seq !== undefined && !bySeq.has(event.seq)) bySeq.set(event.seq, event);
  }
  return [...bySeq.values()].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
}

/**
 * The model's first answer: the text GENERATING streamed, as chunks' deltas. A `stage` event of
 * GENERATING `started` (its first attempt, or a retry after a lost agent) starts the text over; it
 * is settled when GENERATING completes (or, should that event be missing, when the first REPAIRING
 * starts, which starts the running text over for the repair). Null when GENERATING never
 * completed: the pipeline failed or was cancelled before a first answer existed.
 */
export function firstAnswer(events: readonly ClientEvent[]): string | null {
  let text = "";
  for (const event of orderedEvents(events)) {
    if (event.type === "stage") {
      if (event.stage === "GENERATING" && event.status === "started") text = "";
      else if (event.stage === "GENERATING" && event.status === "completed") return text;
      else if (event.stage === "REPAIRING" && event.status === "started") return text;
    } else if (event.type === "chunk") {
      text += event.delta;
    }
  }
  return null;
}

/** The event that ended the pipeline (its `result` or `error`), if it came. */
export function finalEvent(
  events: readonly ClientEvent[],
): Extract<ClientEvent, { type: "result" }> | Extract<ClientEvent, { type: "error" }> | null {
  for (const event of orderedEvents(events)) {
    if (event.type === "result" || (event.type === "error" && event.seq !== undefined)) return event;
  }
  return null;
}
