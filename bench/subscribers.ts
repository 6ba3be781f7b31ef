/**
 * WebSocket subscribers that record when each event (by its `seq`) arrived, and what that says
 * about delivery: per (subscriber, event), the time after the first subscriber that got it.
 */
import WebSocket from "ws";
import { summarize, type Summary } from "./stats.ts";

export interface Subscriber {
  ws: WebSocket;
  /** Arrival time of each seq, on performance.now()'s clock. */
  arrivals: Map<number, number>;
  result: boolean;
}

const SEQ = /"seq":(\d+)/;
const TYPE = /"type":"([a-z_]+)"/;

export function subscribe(url: string): { subscriber: Subscriber; opened: Promise<boolean> } {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const arrivals = new Map<number, number>();
  const subscriber: Subscriber = { ws, arrivals, result: false };
  // Regular expressions, not JSON.parse: the client's own work per frame adds to the spread it measures.
  ws.on("message", (data: WebSocket.RawData) => {
    const now = performance.now();
    const text = data.toString();
    const seq = SEQ.exec(text)?.[1];
    if (seq !== undefined) arrivals.set(Number(seq), now);
    if (TYPE.exec(text)?.[1] === "result") subscriber.result = true;
  });
  ws.on("error", () => undefined);
  const opened = new Promise<boolean>((resolve) => {
    ws.once("open", () => resolve(true));
    ws.once("unexpected-response", () => resolve(false));
    ws.once("error", () => resolve(false));
  });
  return { subscriber, opened };
}

/** Opens `count` subscribers to `url`, at most `inFlight` upgrades at once; answers them and how many opened. */
export async function openSubscribers(
  url: string,
  count: number,
  inFlight = 100,
): Promise<{ subscribers: Subscriber[]; connected: number }> {
  const subscribers: Subscriber[] = [];
  let connected = 0;
  let next = 0;
  const opener = async (): Promise<void> => {
    while (next < count) {
      next += 1;
      const { subscriber, opened } = subscribe(url);
      subscribers.push(subscriber);
      if (await opened) connected += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, opener));
  return { subscribers, connected };
}

/**
 * Waits until every subscriber has the server's close frame (or `timeoutMs` passed), then drops
 * the sockets; answers how many got the frame. Waiting for the TCP close instead would measure
 * the server's linger, not the delivery.
 */
export async function awaitCloseFrames(subscribers: Subscriber[], timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  const open = (s: Subscriber) => s.ws.readyState === WebSocket.OPEN || s.ws.readyState === WebSocket.CONNECTING;
  while (subscribers.some(open) && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const closing = subscribers.filter((s) => !open(s)).length;
  for (const s of subscribers) s.ws.terminate();
  return closing;
}

export interface Delivery {
  /** Events after `afterSeq` that reached at least one subscriber. */
  live_events: number;
  /** Per (subscriber, live event): time after the first subscriber that got it. */
  delivery_ms: Summary;
  /** Per live event: from the first subscriber getting it to the last. */
  spread_ms: Summary;
  /** Got every event from seq 1 to the last, and the result. */
  got_every_event: number;
  /** When the first live event and the last event reached their first subscriber (performance.now()). */
  first_live_at: number;
  last_event_at: number;
}

export function delivery(subscribers: Subscriber[], afterSeq: number): Delivery {
  // A loop, not a spread: 1000 subscribers × hundreds of events is more arguments than a call takes.
  let lastSeq = 0;
  for (const subscriber of subscribers) for (const seq of subscriber.arrivals.keys()) lastSeq = Math.max(lastSeq, seq);
  const deliveries: number[] = [];
  const spread: number[] = [];
  for (let seq = afterSeq + 1; seq <= lastSeq; seq++) {
    const times = subscribers.map((s) => s.arrivals.get(seq)).filter((t): t is number => t !== undefined);
    if (times.length === 0) continue;
    const first = Math.min(...times);
    spread.push(Math.max(...times) - first);
    for (const t of times) deliveries.push(t - first);
  }
  const firstArrival = (seq: number) =>
    Math.min(...subscribers.map((s) => s.arrivals.get(seq) ?? Number.POSITIVE_INFINITY));
  const complete = subscribers.filter((s) => {
    if (!s.result) return false;
    for (let seq = 1; seq <= lastSeq; seq++) if (!s.arrivals.has(seq)) return false;
    return true;
  }).length;
  return {
    live_events: Math.max(0, lastSeq - afterSeq),
    delivery_ms: summarize(deliveries),
    spread_ms: summarize(spread),
    got_every_event: complete,
    first_live_at: firstArrival(afterSeq + 1),
    last_event_at: firstArrival(lastSeq),
  };
}
