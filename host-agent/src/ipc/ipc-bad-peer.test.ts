/**
 * What the pool does when the agent misbehaves. The real agent never sends a bad line, so these
 * tests put a tiny socket server of their own in its place, only to send one.
 */
import { afterEach, describe, expect, it } from "vitest";
import { rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { IpcError } from "./ipc-error.ts";
import { IpcPool } from "./ipc-pool.ts";
import { LineSplitter } from "./line-splitter.ts";
import { HostMessage, IPC_MAX_LINE_BYTES, type IpcRequest } from "./protocol.ts";
import { tempDir, until } from "./test-support.ts";

interface FakePeer {
  socketPath: string;
  connections: number;
  /** Every message the pool sent, in order. */
  received: HostMessage[];
  close(): Promise<void>;
}

type Behaviour = (request: IpcRequest, socket: Socket, connection: number) => void;

const PARSED = { language: "python", framework: null, entry_file: "main.py", summary: "s" };

function reply(socket: Socket, message: unknown): void {
  socket.write(JSON.stringify(message) + "\n");
}

async function fakePeer(onRequest: Behaviour): Promise<FakePeer> {
  const dir = await tempDir();
  const socketPath = join(dir, "fake.sock");
  const sockets = new Set<Socket>();
  const peer: FakePeer = {
    socketPath,
    connections: 0,
    received: [],
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    const connection = ++peer.connections;
    const splitter = new LineSplitter(IPC_MAX_LINE_BYTES);
    socket.on("data", (chunk: Buffer) => {
      for (const event of splitter.push(chunk)) {
        if (event.kind !== "line") throw new Error(`the pool sent a bad line: ${event.kind}`);
        const parsed = HostMessage.safeParse(JSON.parse(event.text));
        if (!parsed.success) throw new Error(`the pool sent an invalid message: ${event.text}`);
        peer.received.push(parsed.data);
        if (parsed.data.type === "REQUEST") onRequest(parsed.data, socket, connection);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return peer;
}

async function rejection(promise: Promise<unknown>): Promise<IpcError> {
  const error = await promise.then(
    () => {
      throw new Error("expected the promise to reject");
    },
    (reason: unknown) => reason,
  );
  if (!(error instanceof IpcError)) throw error;
  return error;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(behaviour: Behaviour): Promise<{ peer: FakePeer; pool: IpcPool }> {
  const peer = await fakePeer(behaviour);
  cleanups.push(() => peer.close());
  const pool = new IpcPool({ socketPath: peer.socketPath, size: 1, reconnectBaseMs: 10, reconnectCapMs: 50 });
  cleanups.push(() => pool.close());
  return { peer, pool };
}

const ask = (pool: IpcPool, prompt: string) => pool.request("parse", { prompt, metadata: {} });

describe("IpcPool with a peer that sends bad lines", () => {
  it("answers a malformed line with an ERROR, fails only the request it names, keeps the connection", async () => {
    const { peer, pool } = await setUp((request, socket) => {
      const prompt = String(request.payload["prompt"]);
      if (prompt === "garbage first") {
        socket.write("this is not json\n[1,2]\n");
        reply(socket, { type: "RESPONSE", id: request.id, result: PARSED });
      } else if (prompt === "bad result") {
        reply(socket, { type: "RESPONSE", id: request.id, result: { language: 42 } });
      } else if (prompt === "bad chunk") {
        reply(socket, { type: "STREAM_CHUNK", id: request.id });
      } else {
        reply(socket, { type: "RESPONSE", id: request.id, result: PARSED });
      }
    });

    expect(await ask(pool, "garbage first")).toEqual(PARSED);
    await until(() => peer.received.filter((m) => m.type === "ERROR").length === 2);
    expect(peer.received.filter((m) => m.type === "ERROR")).toEqual([
      {
        type: "ERROR",
        id: null,
        error: { code: "invalid_request", message: "the line is not valid JSON", retryable: false },
      },
      {
        type: "ERROR",
        id: null,
        error: { code: "invalid_request", message: expect.stringContaining("invalid message"), retryable: false },
      },
    ]);

    const badResult = await rejection(ask(pool, "bad result"));
    expect([badResult.code, badResult.retryable]).toEqual(["internal", false]);
    expect(badResult.message).toContain("invalid parse result (language");

    const badChunk = await rejection(ask(pool, "bad chunk"));
    expect(badChunk.code).toBe("internal");
    const chunkId = peer.received.find((m) => m.type === "REQUEST" && m.payload["prompt"] === "bad chunk")?.id;
    await until(() => peer.received.some((m) => m.type === "CANCEL" && m.id === chunkId));
    expect(peer.received).toContainEqual({
      type: "ERROR",
      id: chunkId,
      error: { code: "invalid_request", message: expect.stringContaining("delta"), retryable: false },
    });

    expect(await ask(pool, "fine")).toEqual(PARSED);
    expect(peer.connections).toBe(1);
    expect(pool.stats().opened).toBe(1);
  });

  it("resets the connection on an overlong line: the request fails retryably, the next one works", async () => {
    const { peer, pool } = await setUp((request, socket, connection) => {
      if (connection === 1) {
        // A line one byte over the cap, as valid JSON would be if it were allowed.
        const head = `{"type":"RESPONSE","id":"${request.id}","result":{"pad":"`;
        const tail = '"}}';
        socket.write(head + "x".repeat(IPC_MAX_LINE_BYTES + 1 - head.length - tail.length) + tail + "\n");
      } else {
        reply(socket, { type: "RESPONSE", id: request.id, result: PARSED });
      }
    });
    const error = await rejection(ask(pool, "first"));
    expect([error.code, error.retryable]).toEqual(["llm_unavailable", true]);
    expect(error.message).toContain(`longer than ${IPC_MAX_LINE_BYTES} bytes`);
    expect(await ask(pool, "second")).toEqual(PARSED);
    expect(peer.connections).toBe(2);
  });

  it("sends CANCEL when a request times out on a peer that never answers", async () => {
    const { peer, pool } = await setUp(() => undefined);
    const error = await rejection(pool.request("parse", { prompt: "x", metadata: {} }, { timeoutMs: 100 }));
    expect([error.code, error.retryable]).toEqual(["timeout", true]);
    const request = peer.received.find((m) => m.type === "REQUEST");
    expect(request).toMatchObject({ type: "REQUEST", task: "parse", stream: false });
    await until(() => peer.received.some((m) => m.type === "CANCEL" && m.id === request?.id));
    expect(pool.stats().requests).toBe(0);
  });

  it("refuses to send a request over the line limit", async () => {
    const { peer, pool } = await setUp(() => undefined);
    const error = await rejection(ask(pool, "x".repeat(IPC_MAX_LINE_BYTES)));
    expect([error.code, error.retryable]).toEqual(["invalid_request", false]);
    expect(peer.received).toEqual([]);
  });
});
