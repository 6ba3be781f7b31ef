import WebSocket from "ws";
import type {
  AgentHealth,
  AgentToEdge,
  JobAssign,
  JobCancel,
  JobError,
  JobEventBody,
  JobKind,
  JobResult,
  Labels,
} from "../../../shared/src/index.ts";
import { AGENT_ID_HEADER, EdgeToAgent, HEARTBEAT_MISSES, jobKey, LINK_VERSION } from "../../../shared/src/index.ts";
import type { Logger } from "../log.ts";
import { Backoff } from "./backoff.ts";
import { Outbox, type Failed, type HandedBack, type OutboxLimits, type Posted } from "./outbox.ts";

export interface LinkOptions {
  /** `http(s)://` or `ws(s)://` origin of the edge. */
  edgeUrl: string;
  token: string;
  agentId: string;
  pool: string;
  labels: Labels;
  capacity: number;
  kinds: JobKind[];
  version: string;
  logger: Logger;
  health(): AgentHealth;
  /** Jobs running here now (reported in `hello` so the edge keeps them across a reconnect). */
  running(): Array<{ job_id: string; attempt: number }>;
  onAssign(job: JobAssign): void;
  onCancel(cancel: Pick<JobCancel, "job_id" | "attempt" | "reason">): void;
  /** The link failed a job itself (a frame of it cannot be delivered) and sent its failure result: stop it. */
  onFailed(failed: { job_id: string; attempt: number; error: JobError }): void;
  /** Bounds of the outbox (ATOMIC_OUTBOX_MAX_FRAMES, ATOMIC_OUTBOX_MAX_BYTES); defaults in outbox.ts. */
  outbox?: OutboxLimits;
  backoff?: Backoff;
}

const key = (job_id: string, attempt: number) => jobKey({ job_id, attempt });

/** `job.rejected` of an accepted job: the edge hands it back to its owner to be placed again. */
const HANDED_BACK_FRAME = {
  v: LINK_VERSION,
  type: "job.rejected",
  reason: "the host-agent's outbox was full while the edge did not ack (ATOMIC_OUTBOX_MAX_FRAMES/BYTES); run it again",
} as const;

/**
 * The host-agent's end of the agent link (DESIGN §6). Dials out, says hello, keeps heartbeats
 * going, and reconnects with backoff whenever the edge goes away. Every event and result stays in
 * an outbox until the edge acks it and is sent again after a reconnect, so nothing a job produced
 * is lost while the edge is unreachable; the edge deduplicates what it already has. A job with a
 * frame that cannot be delivered (too large, or refused by the edge) fails (see outbox.ts).
 */
export class LinkClient {
  readonly #options: LinkOptions;
  readonly #log: Logger;
  readonly #backoff: Backoff;
  #ws: WebSocket | null = null;
  #welcomed = false;
  #closing = false;
  #draining = false;
  #heartbeatMs = 5_000;
  #heartbeatTimer: NodeJS.Timeout | null = null;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #lastFrameAt = 0;
  readonly #outbox: Outbox;
  #failures = 0;
  #linkedWaiters = new Set<() => void>();

  constructor(options: LinkOptions) {
    this.#options = options;
    this.#log = options.logger.child({ component: "link" });
    this.#backoff = options.backoff ?? new Backoff();
    this.#outbox = new Outbox(options.outbox);
  }

  get linked(): boolean {
    return this.#welcomed && this.#ws?.readyState === WebSocket.OPEN;
  }

  /** Frames the edge has not acked yet. */
  get unacked(): number {
    return this.#outbox.unacked;
  }

  /** Bytes of the frames the edge has not acked yet. */
  get unackedBytes(): number {
    return this.#outbox.unackedBytes;
  }

  start(): void {
    this.#closing = false;
    this.#connect();
  }

  /** Resolves once the edge has welcomed this agent (now, if it already has). */
  waitLinked(timeoutMs: number): Promise<boolean> {
    if (this.linked) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#linkedWaiters.delete(done);
        resolve(this.linked);
      };
      const timer = setTimeout(done, timeoutMs);
      this.#linkedWaiters.add(done);
    });
  }

  sendAccepted(jobId: string, attempt: number): void {
    this.#send({ v: LINK_VERSION, type: "job.accepted", job_id: jobId, attempt });
  }

  sendRejected(jobId: string, attempt: number, reason: string): void {
    this.#send({ v: LINK_VERSION, type: "job.rejected", job_id: jobId, attempt, reason });
  }

  sendEvent(jobId: string, attempt: number, seq: number, event: JobEventBody): void {
    this.#post(this.#outbox.event({ v: LINK_VERSION, type: "job.event", job_id: jobId, attempt, seq, event }));
  }

  sendResult(jobId: string, attempt: number, events: number, outcome: JobResult["outcome"]): void {
    this.#post(this.#outbox.result({ v: LINK_VERSION, type: "job.result", job_id: jobId, attempt, events, outcome }));
  }

  /** Forgets whatever a job still had to send (it was cancelled by the edge). */
  forget(jobId: string, attempt: number): void {
    this.#outbox.forget(jobId, attempt);
  }

  /** Sends a heartbeat now, so the edge learns of a health change before anything that follows. */
  reportHealth(): void {
    this.#send({
      v: LINK_VERSION,
      type: "heartbeat",
      health: this.#options.health(),
      load: { running: this.#options.running().length },
    });
  }

  /** Tells the edge to send no more jobs here. */
  drain(): void {
    this.#draining = true;
    this.#send({ v: LINK_VERSION, type: "draining" });
  }

  /** Resolves when every event and result is acked, or after `timeoutMs`. */
  async flushed(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.unacked > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    return this.unacked === 0;
  }

  /** Closes the link for good (1001: going away). */
  close(code = 1001, reason = "host-agent shutting down"): Promise<void> {
    this.#closing = true;
    this.#clearTimers();
    const ws = this.#ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2_000);
      ws.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      ws.close(code, reason);
    });
  }

  // ---------------------------------------------------------------- connection

  #connect(): void {
    if (this.#closing) return;
    const url = `${this.#options.edgeUrl.replace(/^http/, "ws").replace(/\/+$/, "")}/agent/connect`;
    const ws = new WebSocket(url, {
      headers: { Authorization: `Bearer ${this.#options.token}`, [AGENT_ID_HEADER]: this.#options.agentId },
      handshakeTimeout: 10_000,
      maxPayload: 4 * 1024 * 1024,
    });
    this.#ws = ws;
    this.#welcomed = false;
    ws.on("open", () => {
      this.#lastFrameAt = Date.now();
      this.#send({
        v: LINK_VERSION,
        type: "hello",
        agent_id: this.#options.agentId,
        version: this.#options.version,
        pool: this.#options.pool,
        labels: this.#options.labels,
        capacity: { jobs: this.#options.capacity, kinds: this.#options.kinds },
        running: this.#runningOrUnacked(),
        health: this.#options.health(),
      });
    });
    ws.on("message", (data) => this.#onMessage(data.toString()));
    ws.on("unexpected-response", (_req, res) => {
      const status = res.statusCode ?? 0;
      this.#log.error(
        status === 401 ? "the edge refused the agent token (ATOMIC_AGENT_TOKEN)" : "the edge refused the link",
        { status, url },
      );
      ws.terminate();
    });
    ws.on("error", (error) => {
      this.#log.debug("link error", { error });
    });
    ws.on("close", (code, reason) => this.#onClose(code, reason.toString()));
  }

  #onClose(code: number, reason: string): void {
    const wasLinked = this.#welcomed;
    this.#welcomed = false;
    this.#clearTimers();
    this.#backoff.disconnected();
    if (this.#closing) return;
    const wait = this.#backoff.next();
    this.#failures += 1;
    // Say so on the first failure and then now and again, not on every retry.
    const level = wasLinked || this.#failures === 1 || this.#failures % 10 === 0 ? "warn" : "debug";
    this.#log[level](wasLinked ? "lost the edge; reconnecting" : "edge unreachable; retrying", {
      code,
      reason,
      retry_in_ms: wait,
      attempt: this.#backoff.attempt,
      unacked: this.unacked,
    });
    this.#reconnectTimer = setTimeout(() => this.#connect(), wait);
  }

  #onMessage(text: string): void {
    this.#lastFrameAt = Date.now();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      this.#log.warn("edge sent a frame that is not JSON", { length: text.length });
      return;
    }
    const parsed = EdgeToAgent.safeParse(body);
    if (!parsed.success) {
      // Unknown types are how newer edges add features: ignore them quietly.
      this.#log.debug("ignoring an unknown or malformed frame", { issues: parsed.error.issues.slice(0, 2) });
      return;
    }
    const frame = parsed.data;
    switch (frame.type) {
      case "welcome": {
        this.#welcomed = true;
        this.#failures = 0;
        this.#backoff.connected();
        this.#heartbeatMs = frame.heartbeat_ms;
        for (const acked of frame.acked) this.#ack(acked.job_id, acked.attempt, acked.seq, false);
        for (const cancel of frame.cancel) {
          this.forget(cancel.job_id, cancel.attempt);
          this.#options.onCancel({ ...cancel, reason: "the edge no longer wants this job" });
        }
        this.#log.info("linked to the edge", { heartbeat_ms: frame.heartbeat_ms, resending: this.unacked });
        // Jobs handed back while the edge was away: said again, in case one was in that hello.
        const running = new Set(this.#options.running().map((job) => key(job.job_id, job.attempt)));
        for (const job of this.#outbox.takeHandedBack(running))
          this.#send({ ...HANDED_BACK_FRAME, job_id: job.job_id, attempt: job.attempt });
        this.#resendOutbox();
        if (this.#draining) this.#send({ v: LINK_VERSION, type: "draining" });
        this.#startHeartbeats();
        for (const waiter of [...this.#linkedWaiters]) waiter();
        return;
      }
      case "job.assign":
        this.#options.onAssign(frame);
        return;
      case "job.cancel":
        this.#options.onCancel(frame);
        return;
      case "ack":
        this.#ack(frame.job_id, frame.attempt, frame.seq, frame.result);
        return;
      case "heartbeat.ack":
        return;
      case "error": {
        this.#log.warn("the edge could not use a frame", {
          code: frame.code,
          message: frame.message,
          job_id: frame.job_id,
          attempt: frame.attempt,
        });
        if (frame.job_id === undefined || frame.attempt === undefined) return;
        const failed = this.#outbox.refused(frame.job_id, frame.attempt, frame.code, frame.message);
        if (failed) this.#failed(failed);
        return;
      }
    }
  }

  #ack(jobId: string, attempt: number, seq: number, result: boolean): void {
    this.#outbox.ack(jobId, attempt, seq, result);
  }

  #resendOutbox(): void {
    for (const frame of this.#outbox.pending()) this.#send(frame);
  }

  #post(posted: Posted): void {
    // Before `welcome` a frame only waits in the outbox: the edge gets it with the rest then.
    if (posted.action === "send" && this.#welcomed) this.#write(posted.text);
    else if (posted.action === "fail") this.#failed(posted);
    else if (posted.action === "handback") this.#handedBack(posted);
  }

  /**
   * The outbox is full: the job is handed back (the edge places it again, attempt + 1; told now
   * if linked, else by its absence from the next hello) and the runner stops it.
   */
  #handedBack({ job_id, attempt, error }: HandedBack): void {
    this.#log.warn("outbox full; handing a job back", {
      job_id,
      attempt,
      unacked: this.unacked,
      unacked_bytes: this.unackedBytes,
      linked: this.#welcomed,
    });
    this.#send({ ...HANDED_BACK_FRAME, job_id, attempt });
    this.#options.onFailed({ job_id, attempt, error });
  }

  /** The outbox failed a job: its failure result goes to the edge, and the runner stops it. */
  #failed({ result, error }: Failed): void {
    this.#log.error("failing a job whose frame cannot be delivered", {
      job_id: result.job_id,
      attempt: result.attempt,
      error,
    });
    this.#send(result);
    this.#options.onFailed({ job_id: result.job_id, attempt: result.attempt, error });
  }

  #startHeartbeats(): void {
    this.#clearHeartbeat();
    this.#heartbeatTimer = setInterval(() => {
      const ws = this.#ws;
      if (!ws) return;
      if (Date.now() - this.#lastFrameAt > this.#heartbeatMs * HEARTBEAT_MISSES) {
        this.#log.warn("the edge stopped answering; reconnecting", { silent_ms: Date.now() - this.#lastFrameAt });
        ws.terminate();
        return;
      }
      this.reportHealth();
    }, this.#heartbeatMs);
    this.#heartbeatTimer.unref();
  }

  #runningOrUnacked(): Array<{ job_id: string; attempt: number }> {
    const seen = new Map<string, { job_id: string; attempt: number }>();
    for (const job of [...this.#options.running(), ...this.#outbox.jobs()]) {
      const k = key(job.job_id, job.attempt);
      // A job handed back is not this agent's any more, even while it is still stopping.
      if (!seen.has(k) && !this.#outbox.handedBack(job.job_id, job.attempt)) seen.set(k, job);
    }
    return [...seen.values()];
  }

  #send(frame: AgentToEdge): void {
    if (frame.type !== "hello" && !this.#welcomed) return;
    this.#write(JSON.stringify(frame));
  }

  /** Writes a frame already in JSON to the socket, if it is open. */
  #write(text: string): void {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(text, (error) => {
      if (error) this.#log.debug("send failed; the frame waits in the outbox", { error });
    });
  }

  #clearHeartbeat(): void {
    if (this.#heartbeatTimer) clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = null;
  }

  #clearTimers(): void {
    this.#clearHeartbeat();
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
  }
}
