import type { ServerNotification } from "@modelcontextprotocol/sdk/types.js";
import type { ClientEvent } from "../../../shared/src/protocol/client-events.ts";

type Send = (notification: ServerNotification) => Promise<void>;

/** Chunks arrive by the hundred: one progress line for them every this many ms at most. */
const CHUNK_INTERVAL_MS = 250;
/** A stage that says nothing for this long (a test run, a slow model) still gets a line, so a client's timeout that progress resets does not fire. */
const HEARTBEAT_MS = 15_000;

/**
 * Turns a pipeline's events into MCP progress notifications (when the client asked for them with a
 * progressToken): the pipeline's id, each stage and its round, the verification's counts, the
 * tokens generated so far, and a line every 15 s of silence. `progress` counts the notifications,
 * so it only grows.
 */
export class ProgressReporter {
  readonly #token: string | number | undefined;
  readonly #send: Send;
  readonly #heartbeatMs: number;
  #stage = "QUEUED";
  #stageSince = Date.now();
  #tokens = 0;
  #chars = 0;
  #sent = 0;
  #lastSentAt = 0;
  #lastChunkSent = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(token: string | number | undefined, send: Send, heartbeatMs = HEARTBEAT_MS) {
    this.#token = token;
    this.#send = send;
    this.#heartbeatMs = heartbeatMs;
    if (token === undefined) return;
    this.#timer = setInterval(() => {
      if (Date.now() - this.#lastSentAt < this.#heartbeatMs) return;
      const seconds = Math.round((Date.now() - this.#stageSince) / 1000);
      void this.#notify(`${this.#stage} running for ${seconds} s${this.#tokensSoFar()}`);
    }, this.#heartbeatMs);
  }

  /** Notes `event` and sends a notification when it is worth one. */
  async event(event: ClientEvent): Promise<void> {
    const message = this.#describe(event);
    if (message !== null) await this.#notify(message);
  }

  /** Stops the heartbeat. */
  stop(): void {
    clearInterval(this.#timer);
  }

  /** A failure to send is the client's business, not the pipeline's. */
  async #notify(message: string): Promise<void> {
    if (this.#token === undefined) return;
    this.#sent += 1;
    this.#lastSentAt = Date.now();
    await this.#send({
      method: "notifications/progress",
      params: { progressToken: this.#token, progress: this.#sent, message },
    }).catch(() => undefined);
  }

  /** The line for `event`, or null when it adds nothing (a chunk soon after the last one sent). */
  #describe(event: ClientEvent): string | null {
    switch (event.type) {
      case "queued":
        return `pipeline ${event.pipeline_id} queued${event.position === null ? "" : ` at position ${event.position}`}`;
      case "stage": {
        const round = event.round === undefined ? "" : ` round ${event.round}`;
        if (event.status === "started") {
          this.#stage = `${event.stage}${round}`;
          this.#stageSince = Date.now();
        }
        const reason = event.reason === undefined ? "" : `: ${event.reason}`;
        return `${event.stage}${round} ${event.status}${reason}${this.#tokensSoFar()}`;
      }
      case "chunk": {
        this.#tokens += 1;
        this.#chars += event.delta.length;
        const now = Date.now();
        if (!event.is_final && now - this.#lastChunkSent < CHUNK_INTERVAL_MS) return null;
        this.#lastChunkSent = now;
        return `${this.#stage}${this.#tokensSoFar()}`;
      }
      case "verification": {
        const { round, passed, tests, skipped_reason } = event.round;
        const counts =
          tests === null ? "no tests ran" : `${tests.passed} passed, ${tests.failed} failed, ${tests.skipped} skipped`;
        const verdict = skipped_reason === undefined ? (passed ? "passed" : "failed") : `skipped (${skipped_reason})`;
        return `verification round ${round}: ${verdict}; ${counts}`;
      }
      case "result":
        return `done: ${event.state}${event.verification === null ? "" : `, verification ${event.verification.status}`}`;
      case "error":
        return `failed: ${event.code}: ${event.error}`;
    }
  }

  #tokensSoFar(): string {
    return this.#tokens === 0 ? "" : ` (${this.#tokens} tokens, ${this.#chars} characters so far)`;
  }
}
