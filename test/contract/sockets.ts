import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import WebSocket from "ws";
import { RecordingSocket } from "../support/ws.ts";
import type { Answer } from "./contract.ts";

function headersOf(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return headers;
}

async function answerOf(res: IncomingMessage): Promise<Answer> {
  let body = "";
  for await (const chunk of res) body += String(chunk);
  return { status: res.statusCode ?? 0, headers: headersOf(res.headers), body };
}

/** A WebSocket handshake that succeeded: the 101 answer, and the open socket recording its frames. */
export async function openSocket(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ answer: Answer; socket: RecordingSocket }> {
  const socket = new RecordingSocket(url, headers);
  const upgraded = new Promise<Answer>((resolve) =>
    socket.ws.once("upgrade", (res) =>
      resolve({ status: res.statusCode ?? 0, headers: headersOf(res.headers), body: "" }),
    ),
  );
  await socket.opened();
  return { answer: await upgraded, socket };
}

/** A WebSocket handshake the edge refuses: its HTTP answer, read whole. */
export function refusedHandshake(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  const ws = new WebSocket(url, { headers });
  return new Promise((resolve, reject) => {
    ws.once("open", () => {
      ws.close();
      reject(new Error(`${url} opened; a refusal was expected`));
    });
    ws.once("error", reject);
    ws.once("unexpected-response", (req, res) => {
      answerOf(res)
        .then(resolve, reject)
        .finally(() => req.destroy());
    });
  });
}
