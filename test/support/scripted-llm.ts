import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One chat message as the OpenAI-compatible protocol carries it. */
export interface ChatMessage {
  role: string;
  content: string;
}

/** A streamed chat request the server received. */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
}

/** Answers one streamed request with the text to stream; may throw to fail the test's assertion. */
export type ScriptedAnswer = (request: ChatRequest) => string;

/**
 * A local OpenAI-compatible server (the remote LLM is the one part allowed to be scripted): real
 * HTTP, `GET /v1/models` for health, `POST /v1/chat/completions` answering a non-streamed call
 * (the parse step) with an empty JSON object, so the rules decide, and each streamed call (generate,
 * then each repair) with the next answer of the script, as server-sent events. A script's
 * assertion that fails is kept in `failures` and the call answered 500, so the test sees it.
 */
export class ScriptedLlm {
  readonly streamed: ChatRequest[] = [];
  readonly failures: unknown[] = [];
  #script: ScriptedAnswer[] = [];
  #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<ScriptedLlm> {
    const server = createServer();
    const llm = new ScriptedLlm(server);
    server.on("request", (req, res) => {
      void llm.#handle(req).then(
        ({ status, type, body }) => {
          res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-cache" });
          res.end(body);
        },
        (error: unknown) => {
          res.writeHead(500, { "Content-Type": "application/json" });
          res.end(JSON.stringify({ error: { message: String(error) } }));
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return llm;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1`;
  }

  /** The answers to the next streamed calls, in order. */
  script(...answers: ScriptedAnswer[]): void {
    this.#script = answers;
    this.streamed.length = 0;
    this.failures.length = 0;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage): Promise<{ status: number; type: string; body: string }> {
    if (req.method === "GET" && req.url === "/v1/models") {
      return { status: 200, type: "application/json", body: JSON.stringify({ data: [{ id: "scripted" }] }) };
    }
    if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
      return { status: 404, type: "application/json", body: "{}" };
    }
    let raw = "";
    for await (const piece of req) raw += String(piece);
    const body = JSON.parse(raw) as { model: string; messages: ChatMessage[]; stream?: boolean };
    if (body.stream !== true) {
      const message = { role: "assistant", content: "{}" };
      return { status: 200, type: "application/json", body: JSON.stringify({ choices: [{ index: 0, message }] }) };
    }
    const request = { model: body.model, messages: body.messages };
    this.streamed.push(request);
    const answer = this.#script.shift();
    if (!answer) return this.#fail(new Error(`no scripted answer for streamed call ${this.streamed.length}`));
    let text: string;
    try {
      text = answer(request);
    } catch (error) {
      return this.#fail(error);
    }
    const event = (delta: object, finish: string | null = null) =>
      `data: ${JSON.stringify({ model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    // Cut into a few pieces, as a model streams.
    const pieces = text.match(/[\s\S]{1,40}/g) ?? [];
    const stream = pieces.map((piece) => event({ content: piece })).join("") + event({}, "stop") + "data: [DONE]\n\n";
    return { status: 200, type: "text/event-stream", body: stream };
  }

  #fail(error: unknown): { status: number; type: string; body: string } {
    this.failures.push(error);
    return { status: 500, type: "application/json", body: JSON.stringify({ error: { message: String(error) } }) };
  }
}
