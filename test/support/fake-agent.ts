import { z } from "zod";
import {
  JobAssign,
  LINK_VERSION,
  type AgentHealth,
  type ErrorCode,
  type ExecuteResult,
  type Hello,
  type JobEvent,
  type JobKind,
  type JobResult,
} from "../../shared/src/index.ts";
import type { EdgeHandle } from "./edge.ts";

/** A sandbox run's result as a host-agent reports it: `print(1+1)` that exited 0. */
export const SANDBOX_RESULT: ExecuteResult = {
  exit_code: 0,
  signal: null,
  stdout: "2\n",
  stderr: "",
  truncated: false,
  timed_out: false,
  oom_killed: false,
  duration_ms: 41,
};
import { RecordingSocket } from "./ws.ts";

export const HEALTHY: AgentHealth = {
  llm: { status: "healthy", provider: "offline", model: "test" },
  docker: { status: "unavailable", detail: "not in this test" },
};

// The edge sends every job kind an object payload; tests read its fields.
const AssignmentFrame = JobAssign.extend({ payload: z.record(z.string(), z.unknown()) });

/** A `job.assign` the edge sent, checked against the agent-link schema. */
export type Assignment = z.infer<typeof AssignmentFrame>;

/**
 * A test playing a host-agent over a real WebSocket to the real edge: it links, then the test
 * drives each job by hand (events, results, duplicates, disconnects).
 */
export class FakeAgent {
  readonly socket: RecordingSocket;
  readonly id: string;

  private constructor(socket: RecordingSocket, id: string) {
    this.socket = socket;
    this.id = id;
  }

  static async link(
    edge: EdgeHandle,
    options: {
      id?: string;
      capacity?: number;
      kinds?: JobKind[];
      labels?: Record<string, string>;
      running?: Array<{ job_id: string; attempt: number }>;
      pool?: string;
      docker?: boolean;
    } = {},
  ): Promise<FakeAgent> {
    const id = options.id ?? `agent-${Math.random().toString(36).slice(2, 10)}`;
    const socket = new RecordingSocket(`${edge.wsUrl}/agent/connect`, {
      Authorization: `Bearer ${edge.token}`,
      "X-Atomic-Agent-Id": id,
    });
    await socket.opened();
    const agent = new FakeAgent(socket, id);
    socket.send({
      v: LINK_VERSION,
      type: "hello",
      agent_id: id,
      version: "test",
      pool: options.pool ?? "default",
      labels: options.labels ?? {},
      capacity: { jobs: options.capacity ?? 4, kinds: options.kinds ?? ["llm.generate", "export"] },
      running: options.running ?? [],
      health: options.docker ? { ...HEALTHY, docker: { status: "available" } } : HEALTHY,
    } satisfies Hello);
    await socket.waitFor((m) => m["type"] === "welcome");
    return agent;
  }

  /** The next `job.assign` of `kind` not yet taken by `nextJob`. */
  async nextJob(kind: JobKind = "llm.generate", timeoutMs = 10_000): Promise<Assignment> {
    const message = await this.socket.waitFor(
      (m) =>
        m["type"] === "job.assign" &&
        m["kind"] === kind &&
        !this.#taken.has(`${String(m["job_id"])}#${String(m["attempt"])}`),
      timeoutMs,
    );
    const assignment = AssignmentFrame.parse(message);
    this.#taken.add(`${assignment.job_id}#${assignment.attempt}`);
    return assignment;
  }
  #taken = new Set<string>();

  token(job: Assignment, seq: number, text: string): void {
    this.socket.send({
      v: LINK_VERSION,
      type: "job.event",
      job_id: job.job_id,
      attempt: job.attempt,
      seq,
      event: { kind: "token", text },
    } satisfies JobEvent);
  }

  result(job: Assignment, events: number, result: unknown): void {
    this.socket.send({
      v: LINK_VERSION,
      type: "job.result",
      job_id: job.job_id,
      attempt: job.attempt,
      events,
      outcome: { ok: true, result },
    } satisfies JobResult);
  }

  fail(job: Assignment, code: ErrorCode, message: string, retryable: boolean): void {
    this.socket.send({
      v: LINK_VERSION,
      type: "job.result",
      job_id: job.job_id,
      attempt: job.attempt,
      events: 0,
      outcome: { ok: false, error: { code, message, retryable } },
    } satisfies JobResult);
  }

  /** Streams `chunks` as tokens and sends the matching result, as a real agent would. */
  generate(job: Assignment, chunks: string[]): void {
    chunks.forEach((chunk, i) => this.token(job, i + 1, chunk));
    this.result(job, chunks.length, { chars: chunks.join("").length, finish_reason: "stop", provider: "test" });
  }

  /** Waits until the edge acked the result of `job`. */
  resultAcked(job: Assignment, timeoutMs = 10_000): Promise<unknown> {
    return this.socket.waitFor(
      (m) => m["type"] === "ack" && m["job_id"] === job.job_id && m["attempt"] === job.attempt && m["result"] === true,
      timeoutMs,
    );
  }

  close(): void {
    this.socket.close();
  }

  kill(): void {
    this.socket.terminate();
  }
}
