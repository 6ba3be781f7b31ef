import { z } from "zod";
import { NumberColumn } from "../storage/columns.ts";
import type { EdgeLogger } from "../log.ts";
import { jobKey } from "../../../shared/src/index.ts";
import { JobSpec, type JobOwner, type JobRef } from "../jobs/job.ts";
import { ownerKey } from "../jobs/owner.ts";
import { PRIORITY_RANK } from "./admission.ts";
import type { AgentRegistry } from "./agent-registry.ts";
import { chooseAgent } from "./placement.ts";

export type PlaceOutcome = { status: "placed"; agent_id: string } | { status: "queued" } | { status: "unavailable" };

/** A job kept by an agent across a reconnect. */
export interface KeptJob extends JobRef {
  owner: JobOwner;
}

const SlotRow = z.object({ slot: z.string(), job_id: z.string(), attempt: z.number(), agent_id: z.string() });
type Slot = z.infer<typeof SlotRow>;
const PendingRow = z.object({ body: z.string(), wait_until: z.number() });

/**
 * What a placed job holds at its agent. A pipeline runs one job at a time, so its slot is keyed by
 * the pipeline: placing its next job, or its end, frees the previous one with nothing passed
 * between objects. An execution's jobs each hold a slot of their own until the agent link
 * releases it.
 */
export function slotOf(job: JobRef & { owner: JobOwner }): string {
  return job.owner.kind === "pipeline" ? ownerKey(job.owner) : `job:${jobKey(job)}`;
}

/**
 * Job placement for one pool: the slots placed jobs hold on agents, and the jobs that wait (in
 * priority order, up to their `wait_ms`) until an agent has room. Agents' load is counted from
 * the slots, so a placement writes one row.
 */
export class JobPlacement {
  readonly #sql: SqlStorage;
  readonly #agents: AgentRegistry;
  readonly #assign: (agentId: string, spec: JobSpec) => Promise<boolean>;
  readonly #log: EdgeLogger;
  readonly #slots = new Map<string, Slot>();
  /** Slot keys by job key: the agent link and cancels name a job, not its slot. */
  readonly #slotOfJob = new Map<string, string>();
  #waiting: number;

  constructor(
    sql: SqlStorage,
    agents: AgentRegistry,
    assign: (agentId: string, spec: JobSpec) => Promise<boolean>,
    log: EdgeLogger,
  ) {
    this.#sql = sql;
    this.#agents = agents;
    this.#assign = assign;
    this.#log = log;
    sql.exec(`CREATE TABLE IF NOT EXISTS slots (slot TEXT PRIMARY KEY, job_id TEXT NOT NULL, attempt INTEGER NOT NULL, agent_id TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS pending (job_id TEXT NOT NULL, attempt INTEGER NOT NULL, rank INTEGER NOT NULL, n INTEGER NOT NULL, wait_until INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (job_id, attempt));`);
    for (const raw of sql.exec("SELECT slot, job_id, attempt, agent_id FROM slots")) {
      const slot = SlotRow.safeParse(raw);
      if (!slot.success) continue;
      this.#slots.set(slot.data.slot, slot.data);
      this.#slotOfJob.set(jobKey(slot.data), slot.data.slot);
      const agent = this.#agents.get(slot.data.agent_id);
      if (agent) agent.running += 1;
    }
    this.#waiting = NumberColumn.parse(sql.exec("SELECT COUNT(*) AS n FROM pending").one()["n"]);
  }

  /** Jobs waiting for an agent. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Jobs placed on agents. */
  get running(): number {
    return this.#slots.size;
  }

  /**
   * Places a job on the least-loaded agent that can run it, or lets it wait, or says none can.
   * Whatever its slot held before (its pipeline's previous job) is freed first.
   */
  async place(spec: JobSpec): Promise<PlaceOutcome> {
    const freed = this.#free(slotOf(spec));
    const outcome = await this.#place(spec);
    if (freed) await this.placeWaiting();
    return outcome;
  }

  /**
   * The agent that ran a pipeline's previous job took its next one itself: the pipeline's slot
   * stays on that agent and now names the new job. Nothing changes when the slot no longer holds
   * the previous job there (the pipeline ended, or its next job was placed elsewhere meanwhile).
   */
  continued(previous: JobRef, next: JobRef & { owner: JobOwner }, agentId: string): boolean {
    const held = this.#slots.get(slotOf(next));
    if (!held || held.agent_id !== agentId || jobKey(held) !== jobKey(previous)) return false;
    // In memory only: the stored row keeps the same slot on the same agent, which is what a
    // restart needs (the load it counts); the job it names is set again from the agent's link
    // when the agent re-links (agentUp), and a cancel finds a pipeline's job by its slot.
    this.#slotOfJob.delete(jobKey(held));
    const moved = { ...held, job_id: next.job_id, attempt: next.attempt };
    this.#slots.set(held.slot, moved);
    this.#slotOfJob.set(jobKey(moved), held.slot);
    return true;
  }

  /** Frees the slot of exactly this attempt (cancelled, lost, or an execution's result). */
  releaseJob(job: JobRef): boolean {
    const slot = this.#slotOfJob.get(jobKey(job));
    return slot !== undefined && this.#free(slot);
  }

  /** Frees whatever slot an owner's job holds (a pipeline that ended). */
  releaseOwner(owner: JobOwner): boolean {
    return this.#free(ownerKey(owner));
  }

  /**
   * Where a job is: the agent it is placed on, `waiting` (now removed from the wait), or null. A
   * pipeline's job whose agent took it on from the previous one may not be named by its slot yet:
   * the agent its pipeline's slot is on is where it runs, if anywhere.
   */
  withdraw(job: JobRef, owner?: JobOwner): { agent_id: string } | "waiting" | null {
    const removed = this.#sql.exec(
      "DELETE FROM pending WHERE job_id = ? AND attempt = ?",
      job.job_id,
      job.attempt,
    ).rowsWritten;
    if (removed > 0) {
      this.#waiting = Math.max(0, this.#waiting - removed);
      return "waiting";
    }
    const slot =
      this.#slots.get(this.#slotOfJob.get(jobKey(job)) ?? "") ??
      (owner?.kind === "pipeline" ? this.#slots.get(ownerKey(owner)) : undefined);
    return slot ? { agent_id: slot.agent_id } : null;
  }

  /** Places waiting jobs, in priority order, while some agent has room. */
  async placeWaiting(): Promise<void> {
    if (this.#waiting === 0) return;
    const rows = this.#sql.exec("SELECT body, wait_until FROM pending ORDER BY rank, n").toArray();
    for (const raw of rows) {
      const row = PendingRow.parse(raw);
      const spec = JobSpec.parse(JSON.parse(row.body));
      const taken = this.#sql.exec(
        "DELETE FROM pending WHERE job_id = ? AND attempt = ?",
        spec.job_id,
        spec.attempt,
      ).rowsWritten;
      if (taken === 0) continue;
      this.#waiting = Math.max(0, this.#waiting - 1);
      if (await this.#tryPlace(spec)) continue;
      // No room after all: put it back at the head of its priority and stop looking for now.
      this.#wait(spec, row.wait_until, 0, row.body);
      break;
    }
  }

  /** Takes out every waiting job whose wait is over, for the scheduler to report to its owner. */
  expire(now: number): JobSpec[] {
    const expired: JobSpec[] = [];
    for (const raw of this.#sql.exec("SELECT body, wait_until FROM pending WHERE wait_until <= ?", now).toArray()) {
      const spec = JobSpec.parse(JSON.parse(PendingRow.parse(raw).body));
      this.#sql.exec("DELETE FROM pending WHERE job_id = ? AND attempt = ?", spec.job_id, spec.attempt);
      this.#waiting = Math.max(0, this.#waiting - 1);
      expired.push(spec);
    }
    return expired;
  }

  /** When the next waiting job's wait runs out, or null when none waits. */
  nextExpiry(): number | null {
    const next = this.#sql.exec("SELECT MIN(wait_until) AS next FROM pending").one()["next"];
    return typeof next === "number" ? next : null;
  }

  /** An agent linked (again) and still runs `kept`: its slots are exactly those. */
  agentUp(agentId: string, kept: readonly KeptJob[]): void {
    this.#freeAgent(agentId);
    for (const job of kept) this.#hold(slotOf(job), job, agentId);
  }

  /** An agent is gone for good: the slots it held are free (its jobs were handed back). */
  agentGone(agentId: string): void {
    this.#freeAgent(agentId);
  }

  async #place(spec: JobSpec): Promise<PlaceOutcome> {
    const agentId = await this.#tryPlace(spec);
    if (agentId) return { status: "placed", agent_id: agentId };
    if (spec.mode === "if-available" || spec.wait_ms <= 0) return { status: "unavailable" };
    this.#wait(spec, Date.now() + spec.wait_ms, this.#nextN(), JSON.stringify(spec));
    this.#log.info("job waits for an agent", { job_id: spec.job_id, kind: spec.kind, wait_ms: spec.wait_ms });
    return { status: "queued" };
  }

  async #tryPlace(spec: JobSpec): Promise<string | null> {
    const tried = new Set<string>();
    const slot = slotOf(spec);
    for (;;) {
      const agent = chooseAgent(
        this.#agents.all().filter((a) => !tried.has(a.agent_id)),
        spec,
      );
      if (!agent) return null;
      tried.add(agent.agent_id);
      this.#hold(slot, spec, agent.agent_id);
      const accepted = await this.#assign(agent.agent_id, spec).catch((error: unknown) => {
        this.#log.warn("assign failed", { agent_id: agent.agent_id, error });
        return false;
      });
      if (accepted) return agent.agent_id;
      this.#free(slot);
    }
  }

  #hold(slot: string, job: JobRef, agentId: string): void {
    this.#free(slot);
    this.#slots.set(slot, { slot, job_id: job.job_id, attempt: job.attempt, agent_id: agentId });
    this.#slotOfJob.set(jobKey(job), slot);
    const agent = this.#agents.get(agentId);
    if (agent) agent.running += 1;
    this.#sql.exec(
      "INSERT OR REPLACE INTO slots (slot, job_id, attempt, agent_id) VALUES (?, ?, ?, ?)",
      slot,
      job.job_id,
      job.attempt,
      agentId,
    );
  }

  #free(key: string): boolean {
    const slot = this.#slots.get(key);
    if (!slot) return false;
    this.#slots.delete(key);
    this.#slotOfJob.delete(jobKey(slot));
    const agent = this.#agents.get(slot.agent_id);
    if (agent) agent.running = Math.max(0, agent.running - 1);
    this.#sql.exec("DELETE FROM slots WHERE slot = ?", key);
    return true;
  }

  #freeAgent(agentId: string): void {
    for (const slot of [...this.#slots.values()]) {
      if (slot.agent_id === agentId) this.#free(slot.slot);
    }
  }

  #wait(spec: JobSpec, waitUntil: number, n: number, body: string): void {
    this.#sql.exec(
      "INSERT OR REPLACE INTO pending (job_id, attempt, rank, n, wait_until, body) VALUES (?, ?, ?, ?, ?, ?)",
      spec.job_id,
      spec.attempt,
      PRIORITY_RANK[spec.priority],
      n,
      waitUntil,
      body,
    );
    this.#waiting += 1;
  }

  #nextN(): number {
    return NumberColumn.parse(this.#sql.exec("SELECT COALESCE(MAX(n), 0) + 1 AS next FROM pending").one()["next"]);
  }
}
