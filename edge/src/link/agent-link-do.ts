import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import type { AgentHealth, EdgeToAgent, ErrorCode, Hello, JobEvent, JobResult } from "../../../shared/src/index.ts";
import {
  AgentHealth as AgentHealthSchema,
  HEARTBEAT_MISSES,
  JobKind,
  jobKey,
  Labels,
  LINK_VERSION,
} from "../../../shared/src/index.ts";
import { readConfig, type EdgeConfig } from "../config.ts";
import { TextColumn } from "../storage/columns.ts";
import { createEdgeLogger, type EdgeLogger } from "../log.ts";
import { closeQuietly } from "../sockets/close-quietly.ts";
import type { JobRef, JobSpec } from "../jobs/job.ts";
import { jobOwner, ownerKey, parseOwnerKey } from "../jobs/owner.ts";
import { canRun } from "../scheduler/placement.ts";
import { readAgentFrame } from "./agent-frames.ts";

const LinkState = z.object({
  agent_id: z.string(),
  pool: z.string(),
  session: z.string(),
  connected: z.boolean(),
  draining: z.boolean(),
  disconnected_at: z.number().nullable(),
  health: AgentHealthSchema.nullable(),
  // From the agent's hello: what it runs, to take a pipeline's next job on (links saved before
  // these were kept read as running nothing, so their next jobs go through the scheduler).
  kinds: z.array(JobKind).default([]),
  labels: Labels.default({}),
});
type LinkState = z.infer<typeof LinkState>;

const JobRow = z.object({
  job_id: z.string(),
  attempt: z.number(),
  owner: z.string().transform((key, ctx) => {
    const owner = parseOwnerKey(key);
    if (!owner) {
      ctx.addIssue({ code: "custom", message: `bad owner ${key}` });
      return z.NEVER;
    }
    return owner;
  }),
  kind: JobKind,
});
type JobRow = z.infer<typeof JobRow>;

const Attachment = z.object({ session: z.string(), agent_id: z.string() });

/**
 * The edge's end of one host-agent's link (DESIGN §6; the host-agent's end is
 * `host-agent/src/link/`), named by agent id. Terminates its WebSocket, keeps the jobs it was
 * given, forwards their events and results to their owners (which store and deduplicate them) and
 * acks what is stored. When the agent vanishes it waits a grace period, then hands every job back
 * to its owner to be placed again with `attempt + 1`.
 */
export class AgentLinkDO extends DurableObject<Env> {
  #sql: SqlStorage;
  #config: EdgeConfig;
  #log: EdgeLogger;
  #link: LinkState | null = null;
  #lastSeen = Date.now();
  /** The pool the agent was linked to before this socket (null: none), told if the agent moves. */
  #previousPool: string | null = null;
  /** The `assigned` table, mirrored: every job event and result looks its job up here. */
  #assigned = new Map<string, JobRow>();
  /** Each socket's session, read from its attachment once (frames arrive many times a second). */
  #sessions = new WeakMap<WebSocket, string | null>();
  /**
   * Rows of jobs this link is done with, deleted with its next write instead of a commit of their
   * own (see #forget). Lost if the object leaves memory first: their rows are read back then,
   * and each is a job its owner no longer counts as current.
   */
  #doneRows: JobRef[] = [];

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#config = readConfig(env);
    this.#log = createEdgeLogger(this.#config.ATOMIC_LOG_LEVEL, { component: "agent-link", agent_id: ctx.id.name });
    ctx.blockConcurrencyWhile(async () => {
      this.#sql.exec(`CREATE TABLE IF NOT EXISTS link (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS assigned (job_id TEXT NOT NULL, attempt INTEGER NOT NULL, owner TEXT NOT NULL, kind TEXT NOT NULL, PRIMARY KEY (job_id, attempt));`);
      for (const raw of this.#sql.exec("SELECT job_id, attempt, owner, kind FROM assigned")) {
        const job = JobRow.safeParse(raw);
        if (job.success) this.#assigned.set(jobKey(job.data), job.data);
      }
      const row = this.#sql.exec("SELECT body FROM link WHERE id = 1").toArray()[0];
      if (row) {
        const parsed = LinkState.safeParse(JSON.parse(TextColumn.parse(row["body"])));
        if (parsed.success) this.#link = parsed.data;
      }
    });
  }

  // ---------------------------------------------------------------- the socket

  override async fetch(request: Request): Promise<Response> {
    const agentId = this.ctx.id.name ?? "";
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    const session = crypto.randomUUID();
    // A newer connection from the same agent replaces the older one cleanly.
    for (const old of this.ctx.getWebSockets()) closeQuietly(old, 4000, "replaced by a newer connection");
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({ session, agent_id: agentId });
    this.#previousPool = this.#link?.pool ?? null;
    this.#link = {
      agent_id: agentId,
      pool: this.#link?.pool ?? "default",
      session,
      connected: false,
      draining: false,
      disconnected_at: this.#link?.disconnected_at ?? null,
      health: this.#link?.health ?? null,
      kinds: this.#link?.kinds ?? [],
      labels: this.#link?.labels ?? {},
    };
    this.#saveLink();
    this.#lastSeen = Date.now();
    this.#log.info("agent socket opened", { request_id: request.headers.get("X-Request-Id") });
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (!this.#isCurrent(ws)) return closeQuietly(ws, 4000, "replaced by a newer connection");
    this.#lastSeen = Date.now();
    const read = readAgentFrame(message);
    if (read.type === "error") return this.#sendError(ws, read.code, read.message, read.job);
    if (read.type === "unknown") return this.#log.debug("ignoring a frame of unknown type", { type: read.frameType });
    const msg = read.frame;
    if (msg.type !== "hello" && !this.#link?.connected) {
      return this.#sendError(ws, "invalid_request", "send hello first");
    }
    switch (msg.type) {
      case "hello":
        return this.#onHello(ws, msg);
      case "heartbeat":
        await this.#heartbeat(msg.health);
        this.#send(ws, { v: LINK_VERSION, type: "heartbeat.ack", at: Date.now() });
        return;
      case "job.accepted":
        this.#log.debug("job accepted", { job_id: msg.job_id, attempt: msg.attempt });
        return;
      case "job.rejected":
        return this.#onRejected(msg, msg.reason);
      case "job.event":
        return this.#onEvent(ws, msg);
      case "job.result":
        return this.#onResult(ws, msg);
      case "draining":
        this.#link!.draining = true;
        this.#saveLink();
        this.#log.info("agent is draining");
        await this.#scheduler().agentStatus(this.#link!.agent_id, { draining: true });
        return;
    }
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    closeQuietly(ws, code === 1005 || code === 1006 ? 1000 : code, "closed");
    if (this.#isCurrent(ws)) await this.#disconnected(`socket closed (${code})`);
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    if (this.#isCurrent(ws)) await this.#disconnected(`socket error: ${String(error)}`);
  }

  async #disconnected(why: string): Promise<void> {
    const link = this.#link;
    if (!link || link.disconnected_at !== null) return;
    link.connected = false;
    link.disconnected_at = Date.now();
    this.#saveLink();
    this.#log.warn("agent disconnected; waiting for it to come back", {
      why,
      grace_ms: this.#config.ATOMIC_AGENT_GRACE_MS,
    });
    await this.#scheduler().agentStatus(link.agent_id, { connected: false });
    await this.ctx.storage.setAlarm(Date.now() + this.#config.ATOMIC_AGENT_GRACE_MS);
  }

  // ---------------------------------------------------------------- frames

  async #onHello(ws: WebSocket, hello: Hello): Promise<void> {
    const link = this.#link!;
    if (hello.agent_id !== link.agent_id) {
      this.#sendError(ws, "forbidden", `hello names agent ${hello.agent_id} but this link is for ${link.agent_id}`);
      return closeQuietly(ws, 1008, "agent id mismatch");
    }
    const known = new Map(this.#jobs().map((job) => [jobKey(job), job]));
    const kept: JobRow[] = [];
    const cancel: JobRef[] = [];
    const acked: Array<JobRef & { seq: number }> = [];
    for (const running of hello.running) {
      const job = known.get(jobKey(running));
      const status = job ? await jobOwner(this.env, job.owner).jobStatus(refOf(job)) : null;
      if (job && status?.current) {
        kept.push(job);
        acked.push({ job_id: job.job_id, attempt: job.attempt, seq: status.last_seq });
        known.delete(jobKey(job));
      } else {
        cancel.push(running);
      }
    }
    // Jobs this agent had and no longer mentions are gone with its last process.
    for (const lost of known.values()) await this.#handBack(lost, "the host-agent came back without it");
    // Linked to another pool than before: the old pool's scheduler forgets it.
    const previousPool = this.#previousPool;
    if (previousPool !== null && previousPool !== hello.pool) {
      await this.env.SCHEDULER.getByName(previousPool)
        .agentGone(link.agent_id)
        .catch((error: unknown) => this.#log.warn("could not tell the previous pool", { previousPool, error }));
    }
    link.pool = hello.pool;
    link.connected = true;
    link.draining = false;
    link.disconnected_at = null;
    link.health = hello.health;
    link.kinds = hello.capacity.kinds;
    link.labels = hello.labels;
    this.#saveLink();
    this.#send(ws, {
      v: LINK_VERSION,
      type: "welcome",
      agent_id: link.agent_id,
      heartbeat_ms: this.#config.ATOMIC_HEARTBEAT_MS,
      cancel,
      acked,
    });
    this.#log.info("agent linked", {
      pool: hello.pool,
      version: hello.version,
      kept: kept.length,
      cancelled: cancel.length,
    });
    await this.#scheduler().agentUp({
      agent_id: link.agent_id,
      labels: hello.labels,
      capacity: hello.capacity.jobs,
      kinds: hello.capacity.kinds,
      health: hello.health,
      jobs: kept.map((job) => ({ job_id: job.job_id, attempt: job.attempt, owner: job.owner })),
    });
    await this.#armAlarm();
  }

  async #onEvent(ws: WebSocket, msg: JobEvent): Promise<void> {
    const job = this.#job(msg);
    if (!job) return this.#forgetUnknown(ws, msg, msg.seq);
    const ack = await jobOwner(this.env, job.owner).jobEvent(refOf(job), msg.seq, msg.event);
    if (ack.status === "stale") return this.#cancelStale(ws, job);
    this.#ack(ws, job, ack.last_seq, false);
  }

  async #onResult(ws: WebSocket, msg: JobResult): Promise<void> {
    const job = this.#job(msg);
    if (!job) return this.#forgetUnknown(ws, msg, msg.events);
    const ack = await jobOwner(this.env, job.owner).jobResult(
      refOf(job),
      msg.events,
      msg.outcome,
      this.#link?.agent_id ?? "",
    );
    // Missing events: ack what is stored, so the agent resends the rest and then the result.
    if (ack.status === "missing_events") return this.#ack(ws, job, ack.last_seq, false);
    this.#ack(ws, job, msg.events, true);
    // A pipeline runs one job at a time: its next placement, or its end, frees this job's slot
    // at the scheduler. Anything else (an execution's run, a result nobody waits for) frees it here.
    if (ack.status === "stored" && job.owner.kind === "pipeline") {
      this.#forget(job);
      if (ack.next) await this.#takeOn(job, ack.next);
    } else await this.#release(job);
  }

  /**
   * A pipeline's next job, handed over with the ack of its previous one: this agent runs it when
   * it can (linked, not draining, the kind, the labels, its model up), and the pipeline's slot at
   * the scheduler moves from the one job to the other. Otherwise the scheduler places it, as it
   * places any job, and an agent it cannot find is reported to the pipeline.
   */
  async #takeOn(previous: JobRef, next: JobSpec): Promise<void> {
    const link = this.#link;
    const health = link?.health ?? null;
    const taken = link !== null && health !== null && canRun({ ...link, health }, next) && (await this.assign(next));
    try {
      if (taken) {
        await this.#scheduler().jobContinued(refOf(previous), { ...refOf(next), owner: next.owner }, link.agent_id);
        return;
      }
      const placed = await this.#scheduler().placeJob(next);
      if (placed.status !== "unavailable") return;
      await jobOwner(this.env, next.owner).jobUnplaced(refOf(next), {
        code: "no_agent",
        message: "no host-agent can take this job",
      });
    } catch (error) {
      this.#log.error("could not place a pipeline's next job", { job_id: next.job_id, taken, error });
      // Taken, the job runs and a cancel still finds it by the pipeline's slot. Not placed, it is
      // handed back to be placed again; otherwise it would wait for its stage's deadline.
      if (taken) return;
      await jobOwner(this.env, next.owner)
        .jobLost(refOf(next), "its placement failed")
        .catch((lost: unknown) => this.#log.error("could not hand a job back", { job_id: next.job_id, error: lost }));
    }
  }

  async #onRejected(ref: JobRef, reason: string): Promise<void> {
    const job = this.#job(ref);
    if (job) await this.#handBack(job, `the host-agent refused the job: ${reason}`);
  }

  /** An agent may only report on jobs it was given: anything else is acked away and cancelled. */
  #forgetUnknown(ws: WebSocket, ref: JobRef, seq: number): void {
    const { job_id, attempt } = ref;
    this.#log.warn("frame about a job this agent does not hold", { job_id, attempt });
    this.#send(ws, { v: LINK_VERSION, type: "ack", job_id, attempt, seq, result: true });
    this.#send(ws, { v: LINK_VERSION, type: "job.cancel", job_id, attempt, reason: "not a job of this agent" });
  }

  async #cancelStale(ws: WebSocket, job: JobRow): Promise<void> {
    this.#send(ws, {
      v: LINK_VERSION,
      type: "job.cancel",
      job_id: job.job_id,
      attempt: job.attempt,
      reason: "superseded",
    });
    await this.#release(job);
  }

  // ---------------------------------------------------------------- RPC from the scheduler

  /** Sends a job to the agent; false when it cannot take one now (gone or draining). */
  async assign(spec: JobSpec): Promise<boolean> {
    const ws = this.#currentSocket();
    if (!ws || !this.#link?.connected || this.#link.draining) return false;
    this.#deleteDoneRows();
    this.#sql.exec(
      "INSERT OR REPLACE INTO assigned (job_id, attempt, owner, kind) VALUES (?, ?, ?, ?)",
      spec.job_id,
      spec.attempt,
      ownerKey(spec.owner),
      spec.kind,
    );
    this.#assigned.set(jobKey(spec), {
      job_id: spec.job_id,
      attempt: spec.attempt,
      owner: spec.owner,
      kind: spec.kind,
    });
    const sent = this.#send(ws, {
      v: LINK_VERSION,
      type: "job.assign",
      job_id: spec.job_id,
      attempt: spec.attempt,
      pipeline_id: spec.pipeline_id,
      kind: spec.kind,
      payload: spec.payload,
      deadline_ms: spec.deadline_ms,
    });
    if (!sent) this.#forget(spec);
    return sent;
  }

  async cancelJob(ref: JobRef, reason: string): Promise<void> {
    const job = this.#job(ref);
    if (!job) return;
    const ws = this.#currentSocket();
    if (ws) this.#send(ws, { v: LINK_VERSION, type: "job.cancel", job_id: job.job_id, attempt: job.attempt, reason });
    await this.#release(job);
  }

  // ---------------------------------------------------------------- alarm: heartbeats and grace

  override async alarm(): Promise<void> {
    await this.#inspect();
  }

  /**
   * The scheduler asks after an agent it has not heard from in a while (its own sweep, in case
   * this object's alarm was lost): the same checks as the alarm. `unknown` when this link holds
   * no agent for that pool (never linked, lost and forgotten, or linked to another pool since),
   * which the scheduler then forgets too.
   */
  async check(pool: string): Promise<"linked" | "waiting" | "unknown"> {
    const state = await this.#inspect();
    return this.#link && this.#link.pool !== pool ? "unknown" : state;
  }

  async #inspect(): Promise<"linked" | "waiting" | "unknown"> {
    const link = this.#link;
    if (!link) return "unknown";
    const now = Date.now();
    if (!link.connected && link.disconnected_at !== null) {
      if (now < link.disconnected_at + this.#config.ATOMIC_AGENT_GRACE_MS) {
        await this.#armAlarm();
        return "waiting";
      }
      await this.#lost(link);
      return this.#link ? "waiting" : "unknown";
    }
    const ws = this.#currentSocket();
    if (link.connected && !ws) {
      // Saved as linked, but no socket: the runtime restarted (or the object moved) under a link
      // that never came back. Without this it would stay "connected" forever, a ghost that holds
      // its jobs and counts toward placement; now its grace period starts.
      await this.#disconnected("no socket after a restart of the edge");
      return "waiting";
    }
    if (link.connected && ws && now - this.#lastSeen > this.#config.ATOMIC_HEARTBEAT_MS * HEARTBEAT_MISSES) {
      closeQuietly(ws, 1011, "heartbeat timeout");
      await this.#disconnected("no heartbeat");
      return "waiting";
    }
    await this.#armAlarm();
    return link.connected ? "linked" : "waiting";
  }

  /**
   * The grace period is over: every job goes back to its owner to be placed again, the scheduler
   * forgets the agent, and so does this object (its saved link is deleted), unless a new socket
   * of the agent is already open and about to say hello.
   */
  async #lost(link: LinkState): Promise<void> {
    this.#log.warn("agent did not come back in its grace period; placing its jobs again", {
      jobs: this.#jobs().length,
      grace_ms: this.#config.ATOMIC_AGENT_GRACE_MS,
    });
    for (const job of this.#jobs()) await this.#handBack(job, "the host-agent vanished");
    await this.#scheduler().agentGone(link.agent_id);
    if (this.#currentSocket() === null) {
      this.#sql.exec("DELETE FROM link");
      this.#link = null;
      await this.ctx.storage.deleteAlarm();
    }
  }

  async #armAlarm(): Promise<void> {
    const link = this.#link;
    if (!link) return;
    const at = link.connected
      ? Date.now() + this.#config.ATOMIC_HEARTBEAT_MS * HEARTBEAT_MISSES
      : (link.disconnected_at ?? Date.now()) + this.#config.ATOMIC_AGENT_GRACE_MS;
    await this.ctx.storage.setAlarm(at);
  }

  // ---------------------------------------------------------------- helpers

  async #handBack(job: JobRow, reason: string): Promise<void> {
    await this.#release(job);
    await jobOwner(this.env, job.owner)
      .jobLost(refOf(job), reason)
      .catch((error: unknown) => this.#log.error("could not hand a job back", { job_id: job.job_id, error }));
  }

  async #release(job: JobRow): Promise<void> {
    this.#forget(job);
    await this.#scheduler()
      .jobReleased(refOf(job))
      .catch((error: unknown) => this.#log.error("could not release a job", { job_id: job.job_id, error }));
  }

  /** The scheduler hears every heartbeat (the dashboard shows when each agent was last heard), and its health when it changed. */
  async #heartbeat(health: AgentHealth): Promise<void> {
    const link = this.#link!;
    // An idle link's finished jobs leave the table within a heartbeat.
    this.#deleteDoneRows();
    const changed = JSON.stringify(link.health) !== JSON.stringify(health);
    if (changed) {
      link.health = health;
      this.#saveLink();
    }
    await this.#scheduler().agentStatus(link.agent_id, { ...(changed ? { health } : {}), heartbeat_at: Date.now() });
  }

  #jobs(): JobRow[] {
    return [...this.#assigned.values()];
  }

  #job(ref: JobRef): JobRow | null {
    return this.#assigned.get(jobKey(ref)) ?? null;
  }

  /**
   * Done with a job. Its row is deleted with this link's next write (an assignment, the saved
   * link, or the next heartbeat): a delete of its own would be one more commit, and its sync, for
   * every job. A row left behind is harmless: read back after the object left memory, it names
   * a job its owner no longer counts as current, and handing that back, cancelling it or
   * releasing it changes nothing.
   */
  #forget(ref: JobRef): void {
    if (this.#assigned.delete(jobKey(ref))) this.#doneRows.push({ job_id: ref.job_id, attempt: ref.attempt });
  }

  #deleteDoneRows(): void {
    for (const ref of this.#doneRows) {
      // The same attempt may have been assigned again since: its row then stands.
      if (this.#assigned.has(jobKey(ref))) continue;
      this.#sql.exec("DELETE FROM assigned WHERE job_id = ? AND attempt = ?", ref.job_id, ref.attempt);
    }
    this.#doneRows = [];
  }

  #isCurrent(ws: WebSocket): boolean {
    let session = this.#sessions.get(ws);
    if (session === undefined) {
      const attachment = Attachment.safeParse(ws.deserializeAttachment());
      session = attachment.success ? attachment.data.session : null;
      this.#sessions.set(ws, session);
    }
    return session !== null && session === this.#link?.session;
  }

  #currentSocket(): WebSocket | null {
    return this.ctx.getWebSockets().find((ws) => this.#isCurrent(ws)) ?? null;
  }

  #send(ws: WebSocket, frame: EdgeToAgent): boolean {
    try {
      ws.send(JSON.stringify(frame));
      return true;
    } catch (error) {
      this.#log.warn("could not send to the agent", { type: frame.type, error });
      return false;
    }
  }

  /** Tells the agent what is stored: events up to `seq`, and the result when `result`. */
  #ack(ws: WebSocket, job: JobRef, seq: number, result: boolean): void {
    this.#send(ws, { v: LINK_VERSION, type: "ack", job_id: job.job_id, attempt: job.attempt, seq, result });
  }

  /** Refuses a frame; `job` names the job it was about, which the agent then fails. */
  #sendError(ws: WebSocket, code: ErrorCode, message: string, job?: JobRef): void {
    this.#log.warn("bad frame from agent", { code, message, ...job });
    this.#send(ws, { v: LINK_VERSION, type: "error", code, message, ...(job ? refOf(job) : {}) });
  }

  #saveLink(): void {
    this.#deleteDoneRows();
    if (this.#link) this.#sql.exec("INSERT OR REPLACE INTO link (id, body) VALUES (1, ?)", JSON.stringify(this.#link));
  }

  #scheduler() {
    return this.env.SCHEDULER.getByName(this.#link?.pool ?? "default");
  }
}

function refOf(job: JobRef): JobRef {
  return { job_id: job.job_id, attempt: job.attempt };
}
