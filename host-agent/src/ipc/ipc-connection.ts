import { createConnection, type Socket } from "node:net";
import { z } from "zod";
import type { Logger } from "../log.ts";
import { IpcError } from "./ipc-error.ts";
import { encodeLine, LineSplitter, type LineEvent } from "./line-splitter.ts";
import {
  AgentMessage,
  IpcId,
  type HostMessage,
  type IpcHealthCheck,
  type IpcHealthResponse,
  type IpcRequest,
  type IpcResponse,
} from "./protocol.ts";

export type Outcome<T> = { ok: true; message: T } | { ok: false; error: IpcError };

/** A request in flight: chunks as they come, then exactly one outcome. */
export interface RequestCall {
  kind: "request";
  message: IpcRequest;
  onChunk?: (delta: string) => void;
  settle: (outcome: Outcome<IpcResponse>) => void;
}

export interface HealthCall {
  kind: "health";
  message: IpcHealthCheck;
  settle: (outcome: Outcome<IpcHealthResponse>) => void;
}

export interface IpcConnectionOptions {
  socketPath: string;
  maxLineBytes: number;
  connectTimeoutMs: number;
  logger: Logger;
  /** Called once when the connection ends, after every call on it has been settled. */
  onClose?: (connection: IpcConnection, reason: IpcError) => void;
}

// Enough of a message that failed validation to say which request it was about.
const Addressed = z.object({ id: IpcId, type: z.string().optional() });
const Typed = z.object({ type: z.string() });

let connectionNumbers = 0;

/**
 * One connection to an LLM agent. Many calls share it, told apart by id. A line the agent sends
 * that is not a valid message is answered with an ERROR and the connection stays usable; a line
 * over the length cap means the stream can no longer be trusted, so the connection is closed and
 * its calls fail with a retryable error.
 */
export class IpcConnection {
  readonly number: number;
  readonly #socket: Socket;
  readonly #options: IpcConnectionOptions;
  readonly #log: Logger;
  readonly #splitter: LineSplitter;
  readonly #calls = new Map<string, RequestCall | HealthCall>();
  #nextId = 0;
  #closed = false;
  #closeReason: IpcError | null = null;

  private constructor(socket: Socket, options: IpcConnectionOptions, number: number) {
    this.number = number;
    this.#socket = socket;
    this.#options = options;
    this.#log = options.logger.child({ ipc_connection: number });
    this.#splitter = new LineSplitter(options.maxLineBytes);
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      this.#shutdown(
        new IpcError("llm_unavailable", `the connection to the LLM agent failed: ${error.code ?? error.message}`, true),
      );
    });
    socket.on("close", () => {
      this.#shutdown(new IpcError("llm_unavailable", "the connection to the LLM agent was lost", true));
    });
  }

  /** Connects to the agent's socket; fails with a retryable `llm_unavailable` when nobody listens. */
  static connect(options: IpcConnectionOptions): Promise<IpcConnection> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ path: options.socketPath });
      const fail = (detail: string) => {
        clearTimeout(timer);
        socket.destroy();
        reject(
          new IpcError("llm_unavailable", `cannot connect to the LLM agent at ${options.socketPath}: ${detail}`, true),
        );
      };
      const timer = setTimeout(() => fail(`no answer within ${options.connectTimeoutMs} ms`), options.connectTimeoutMs);
      socket.once("error", (error: NodeJS.ErrnoException) => fail(error.code ?? error.message));
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.removeAllListeners("error");
        resolve(new IpcConnection(socket, options, ++connectionNumbers));
      });
    });
  }

  get open(): boolean {
    return !this.#closed;
  }

  /** Calls waiting for their answer on this connection. */
  get inFlight(): number {
    return this.#calls.size;
  }

  /** An id no call on this connection has used. */
  nextId(prefix = "r"): string {
    this.#nextId += 1;
    return `${prefix}${this.#nextId}`;
  }

  /** Sends the call's message; its outcome arrives through `call.settle`. */
  start(call: RequestCall | HealthCall): void {
    if (this.#closed) {
      call.settle({
        ok: false,
        error: this.#closeReason ?? new IpcError("llm_unavailable", "the connection to the LLM agent is closed", true),
      });
      return;
    }
    let line: Buffer;
    try {
      line = encodeLine(call.message, this.#options.maxLineBytes);
    } catch (error) {
      call.settle({
        ok: false,
        error: error instanceof IpcError ? error : new IpcError("internal", String(error), false),
      });
      return;
    }
    this.#calls.set(call.message.id, call);
    this.#socket.write(line);
  }

  /** Stops waiting for a call and asks the agent to stop it; its outcome is never settled. */
  cancel(id: string): void {
    if (this.#calls.delete(id)) this.#send({ type: "CANCEL", id });
  }

  /** Stops waiting for a call without telling the agent (for health checks, which end by themselves). */
  forget(id: string): void {
    this.#calls.delete(id);
  }

  /** Closes the connection at once; every call still waiting fails with `reason`. */
  close(reason: IpcError): void {
    this.#shutdown(reason);
  }

  #send(message: HostMessage): void {
    if (this.#closed) return;
    this.#socket.write(encodeLine(message, this.#options.maxLineBytes));
  }

  #onData(chunk: Buffer): void {
    let events: LineEvent[];
    try {
      events = this.#splitter.push(chunk);
    } catch (error) {
      this.close(new IpcError("internal", `cannot read the agent's output: ${String(error)}`, true));
      return;
    }
    for (const event of events) {
      if (this.#closed) return;
      if (event.kind === "too_long") {
        this.#log.warn("the LLM agent sent a line over the length limit; reconnecting", { bytes: event.bytes });
        this.close(
          new IpcError(
            "llm_unavailable",
            `the LLM agent sent a line longer than ${this.#options.maxLineBytes} bytes; the connection was reset`,
            true,
          ),
        );
        return;
      }
      if (event.kind === "bad_utf8") this.#malformed(null, "the line is not valid UTF-8", false);
      else if (event.text.trim() !== "") this.#onLine(event.text);
    }
  }

  #onLine(text: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.#malformed(null, "the line is not valid JSON", false);
      return;
    }
    const parsed = AgentMessage.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const reason = `invalid message: ${issue ? `${issue.path.join(".") || "(message)"}: ${issue.message}` : "unknown shape"}`;
      const addressed = Addressed.safeParse(value);
      const type = Typed.safeParse(value);
      this.#malformed(addressed.success ? addressed.data.id : null, reason, type.success && type.data.type === "ERROR");
      return;
    }
    this.#dispatch(parsed.data);
  }

  #dispatch(message: AgentMessage): void {
    if (message.type === "ERROR" && message.id === null) {
      this.#log.warn("the LLM agent reported an error", { error: message.error });
      return;
    }
    const call = this.#calls.get(message.id ?? "");
    if (!call) {
      // Normal after a cancel or a timeout: the agent's last words about a call we gave up on.
      this.#log.debug("message for no call in flight", { type: message.type, id: message.id });
      return;
    }
    if (message.type === "STREAM_CHUNK") {
      if (call.kind === "request" && call.onChunk) call.onChunk(message.delta);
      else this.#fail(call, `the agent streamed a chunk for a call that does not stream`);
      return;
    }
    this.#calls.delete(call.message.id);
    if (message.type === "ERROR") call.settle({ ok: false, error: IpcError.fromBody(message.error) });
    else if (message.type === "RESPONSE" && call.kind === "request") call.settle({ ok: true, message });
    else if (message.type === "HEALTH_RESPONSE" && call.kind === "health") call.settle({ ok: true, message });
    else this.#fail(call, `the agent answered a ${call.message.type} with ${message.type}`);
  }

  /** A line that is not a valid message: answer an ERROR (never to an ERROR), fail its call if any. */
  #malformed(id: string | null, reason: string, wasError: boolean): void {
    this.#log.warn("the LLM agent sent a malformed line", { id, reason });
    if (!wasError)
      this.#send({ type: "ERROR", id, error: { code: "invalid_request", message: reason, retryable: false } });
    const call = id === null ? undefined : this.#calls.get(id);
    if (call) this.#fail(call, reason);
  }

  #fail(call: RequestCall | HealthCall, reason: string): void {
    this.#calls.delete(call.message.id);
    if (call.kind === "request") this.#send({ type: "CANCEL", id: call.message.id });
    call.settle({ ok: false, error: new IpcError("internal", `the LLM agent broke the protocol: ${reason}`, false) });
  }

  #shutdown(reason: IpcError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = reason;
    this.#socket.destroy();
    const calls = [...this.#calls.values()];
    this.#calls.clear();
    for (const call of calls) call.settle({ ok: false, error: reason });
    this.#log.debug("connection closed", { reason: reason.message, failed_calls: calls.length });
    this.#options.onClose?.(this, reason);
  }
}
