import { z } from "zod";
import { AgentHealth, JobKind, Labels } from "../../../shared/src/index.ts";
import { TextColumn } from "../storage/columns.ts";

/** What the scheduler stores of one host-agent. */
export const AgentRecord = z.object({
  agent_id: z.string(),
  labels: Labels,
  capacity: z.number(),
  kinds: z.array(JobKind),
  health: AgentHealth,
  connected: z.boolean(),
  draining: z.boolean(),
  connected_at: z.number(),
});
export type AgentRecord = z.infer<typeof AgentRecord>;

/** What the scheduler knows of one host-agent: its record and the jobs placed on it now. */
export type AgentInfo = AgentRecord & {
  /** Jobs placed on it and not released yet (counted from the placements, never stored). */
  running: number;
  /** When its link last said it is alive (epoch ms; in memory only: null until heard since a restart). */
  last_heartbeat_at: number | null;
};

/** The pool's host-agents, in memory and in the scheduler's SQLite. */
export class AgentRegistry {
  readonly #sql: SqlStorage;
  readonly #agents = new Map<string, AgentInfo>();

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    sql.exec("CREATE TABLE IF NOT EXISTS agents (agent_id TEXT PRIMARY KEY, body TEXT NOT NULL)");
    for (const row of sql.exec("SELECT body FROM agents")) {
      const agent = AgentRecord.safeParse(JSON.parse(TextColumn.parse(row["body"])));
      if (agent.success) this.#agents.set(agent.data.agent_id, { ...agent.data, running: 0, last_heartbeat_at: null });
    }
  }

  get(agentId: string): AgentInfo | undefined {
    return this.#agents.get(agentId);
  }

  all(): AgentInfo[] {
    return [...this.#agents.values()];
  }

  /** An agent linked (again): its record replaces what was known; its load is recounted by the caller. */
  up(record: AgentRecord): AgentInfo {
    const agent = { ...record, running: 0, last_heartbeat_at: record.connected_at };
    this.#agents.set(agent.agent_id, agent);
    this.#save(agent);
    return agent;
  }

  /** A change of what is stored is written; a heartbeat's time alone stays in memory (one comes every few seconds). */
  update(
    agentId: string,
    change: Partial<Pick<AgentRecord, "health" | "draining" | "connected">> & { heartbeat_at?: number },
  ): AgentInfo | null {
    const agent = this.#agents.get(agentId);
    if (!agent) return null;
    if (change.heartbeat_at !== undefined) agent.last_heartbeat_at = change.heartbeat_at;
    if (change.health === undefined && change.draining === undefined && change.connected === undefined) return agent;
    if (change.health !== undefined) agent.health = change.health;
    if (change.draining !== undefined) agent.draining = change.draining;
    if (change.connected !== undefined) agent.connected = change.connected;
    this.#save(agent);
    return agent;
  }

  remove(agentId: string): void {
    this.#agents.delete(agentId);
    this.#sql.exec("DELETE FROM agents WHERE agent_id = ?", agentId);
  }

  #save(agent: AgentInfo): void {
    const record: AgentRecord = {
      agent_id: agent.agent_id,
      labels: agent.labels,
      capacity: agent.capacity,
      kinds: agent.kinds,
      health: agent.health,
      connected: agent.connected,
      draining: agent.draining,
      connected_at: agent.connected_at,
    };
    this.#sql.exec(
      "INSERT OR REPLACE INTO agents (agent_id, body) VALUES (?, ?)",
      agent.agent_id,
      JSON.stringify(record),
    );
  }
}
