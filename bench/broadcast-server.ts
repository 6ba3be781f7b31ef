/**
 * The fan-out's reference point: a bare `ws` broadcast server in its own process. It prints
 * {"port":N} once it listens; on a "start" line on stdin it sends `events` frames shaped like the
 * pipeline's chunk events (a delta, the running content, a seq), `intervalMs` apart, to every
 * socket, then a result frame, then closes them all.
 *
 *   node bench/broadcast-server.ts EVENTS INTERVAL_MS
 */
import { createInterface } from "node:readline";
import { WebSocketServer } from "ws";

const events = Number(process.argv[2] ?? "45");
const intervalMs = Number(process.argv[3] ?? "20");
const server = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
const pipelineId = "00000000-0000-4000-8000-000000000000";

function broadcast(frame: string): void {
  for (const client of server.clients) client.send(frame);
}

async function run(): Promise<void> {
  let content = "";
  for (let seq = 1; seq <= events; seq++) {
    const delta = `word${seq} `;
    content += delta;
    broadcast(JSON.stringify({ type: "chunk", pipeline_id: pipelineId, delta, is_final: false, seq, content }));
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  broadcast(JSON.stringify({ type: "result", pipeline_id: pipelineId, state: "COMPLETED", content, seq: events + 1 }));
  for (const client of server.clients) client.close(1000, "done");
}

server.on("listening", () => {
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});
const input = createInterface({ input: process.stdin });
input.on("line", (line) => {
  if (line.trim() === "start") void run();
});
// The bench holds the other end of stdin: when it goes away, so does this server.
input.on("close", () => process.exit(0));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
