/**
 * Concurrent streaming pipelines over the seed's WebSocket protocol: `count` sockets to
 * /ws/stream are opened at once; when all are open, every one sends its prompt (in the same
 * tick), so all the pipelines run at the same time, and follows its pipeline to the end. Times
 * are taken on the client, from the moment the prompt was sent.
 */
import WebSocket from "ws";
import { countBy, summarize, type Summary } from "./stats.ts";

export interface StreamsResult {
  sockets: number;
  /** Got the final chunk and the `result` event, and a 1000 close. */
  completed: number;
  errors: Record<string, number>;
  /** Upgrade: from opening the socket until it was open (all opened at once). */
  connect_ms: Summary;
  /** Until every socket was open (or had failed). */
  open_all_s: number;
  /** Time to first token: prompt sent → first `chunk` with text. */
  first_token_ms: Summary;
  /** Time to last token: prompt sent → the final chunk (`is_final: true`). */
  last_token_ms: Summary;
  /** The most sockets open at the same moment. */
  max_open: number;
  wall_s: number;
}

interface Trace {
  opening: number;
  open: number | null;
  sent: number | null;
  first: number | null;
  last: number | null;
  result: boolean;
  closeCode: number | null;
  error: string | null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

export async function concurrentStreams(
  wsUrl: string,
  options: { count: number; prompt: string; timeoutMs: number; onProgress?: (done: number) => void },
): Promise<StreamsResult> {
  const started = performance.now();
  let open = 0;
  let maxOpen = 0;
  let done = 0;
  const sockets: WebSocket[] = [];
  const traces: Trace[] = [];
  const finished: Array<Promise<void>> = [];
  const opened: Array<Promise<void>> = [];

  for (let i = 0; i < options.count; i++) {
    const trace: Trace = {
      opening: performance.now(),
      open: null,
      sent: null,
      first: null,
      last: null,
      result: false,
      closeCode: null,
      error: null,
    };
    traces.push(trace);
    const ws = new WebSocket(`${wsUrl}/ws/stream`, { perMessageDeflate: false });
    sockets.push(ws);
    let markOpened: () => void = () => undefined;
    opened.push(new Promise<void>((resolve) => (markOpened = resolve)));
    finished.push(
      new Promise<void>((resolve) => {
        let counted = false;
        const finish = () => {
          markOpened();
          if (counted) return;
          counted = true;
          done += 1;
          options.onProgress?.(done);
          resolve();
        };
        ws.on("open", () => {
          trace.open = performance.now();
          open += 1;
          maxOpen = Math.max(maxOpen, open);
          markOpened();
        });
        ws.on("message", (data: WebSocket.RawData) => {
          const now = performance.now();
          let message: unknown;
          try {
            message = JSON.parse(data.toString());
          } catch {
            trace.error ??= "unparsable frame";
            return;
          }
          if (!isObject(message)) return;
          if (message["type"] === "chunk") {
            if (trace.first === null && typeof message["delta"] === "string" && message["delta"] !== "")
              trace.first = now;
            if (message["is_final"] === true) trace.last = now;
          } else if (message["type"] === "result") {
            trace.result = true;
          } else if (message["type"] === "error") {
            trace.error ??= `event:${String(message["code"])}`;
          }
        });
        ws.on("unexpected-response", (_request, response) => {
          trace.error ??= `upgrade:${response.statusCode ?? 0}`;
          ws.terminate();
          finish();
        });
        ws.on("error", (error: NodeJS.ErrnoException) => {
          trace.error ??= `socket:${error.code ?? error.message}`;
        });
        ws.on("close", (code: number) => {
          if (trace.open !== null) open -= 1;
          trace.closeCode = code;
          finish();
        });
      }),
    );
  }

  const timer = setTimeout(() => {
    for (const ws of sockets) if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
  }, options.timeoutMs);
  // Every socket open first, so that all the pipelines run at the same time; then every prompt at once.
  await Promise.all(opened);
  const allOpen = performance.now();
  for (let i = 0; i < sockets.length; i++) {
    const ws = sockets[i]!;
    if (ws.readyState !== WebSocket.OPEN) continue;
    ws.send(JSON.stringify({ prompt: options.prompt }));
    traces[i]!.sent = performance.now();
  }
  await Promise.all(finished);
  clearTimeout(timer);

  const completed = traces.filter((t) => t.result && t.last !== null && t.closeCode === 1000);
  const failures = traces
    .filter((t) => !completed.includes(t))
    .map((t) => t.error ?? (t.closeCode === null ? "no close" : `closed:${t.closeCode} before the result`));
  return {
    sockets: options.count,
    completed: completed.length,
    errors: countBy(failures),
    connect_ms: summarize(traces.filter((t) => t.open !== null).map((t) => t.open! - t.opening)),
    open_all_s: Math.round((allOpen - started) / 100) / 10,
    first_token_ms: summarize(traces.filter((t) => t.first !== null).map((t) => t.first! - t.sent!)),
    last_token_ms: summarize(traces.filter((t) => t.last !== null).map((t) => t.last! - t.sent!)),
    max_open: maxOpen,
    wall_s: Math.round((performance.now() - started) / 100) / 10,
  };
}
