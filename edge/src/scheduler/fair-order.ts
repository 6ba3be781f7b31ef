/**
 * Fair admission between tenants (API keys), pure: which queued pipeline takes the next free
 * running slot. Priorities stay strict (a queued `high` pipeline that may run goes before any
 * `normal` one); within a priority, the tenants with pipelines waiting take turns, round-robin in
 * a fixed order of their ids, each taking its own pipelines first come first served. A tenant at
 * its cap of running pipelines (ATOMIC_MAX_RUNNING_PER_KEY; 0: none) is passed over until one of
 * its pipelines ends. So a key that queues 1,000 pipelines delays another key's next pipeline by
 * at most one turn of each other key, not by the 1,000.
 */

/** The tenant of an open edge's pipelines (no API keys: every caller is one tenant). */
export const OPEN_TENANT = "";

/** Queued pipelines of one tenant at one priority rank. */
export interface TenantQueue {
  rank: number;
  owner: string;
  count: number;
}

export interface FairState {
  /** Running pipelines per tenant (absent: none). */
  running: ReadonlyMap<string, number>;
  /** Per-tenant cap on running pipelines; 0 for none. */
  capPerTenant: number;
  /** The tenant served last at each rank (absent: none yet), where the next turn starts after. */
  lastServed: ReadonlyMap<number, string>;
}

/** Whether a tenant may start one more pipeline under the cap. */
export function underCap(owner: string, state: Pick<FairState, "running" | "capPerTenant">): boolean {
  return state.capPerTenant === 0 || (state.running.get(owner) ?? 0) < state.capPerTenant;
}

/**
 * The (rank, tenant) whose oldest queued pipeline is admitted next, or null when every queued
 * pipeline belongs to a tenant at its cap (or nothing is queued).
 */
export function nextTurn(queues: readonly TenantQueue[], state: FairState): { rank: number; owner: string } | null {
  const ranks = [...new Set(queues.filter((q) => q.count > 0).map((q) => q.rank))].sort((a, b) => a - b);
  for (const rank of ranks) {
    const owners = queues
      .filter((q) => q.rank === rank && q.count > 0 && underCap(q.owner, state))
      .map((q) => q.owner)
      .sort();
    if (owners.length === 0) continue;
    const last = state.lastServed.get(rank);
    const owner = (last === undefined ? undefined : owners.find((o) => o > last)) ?? owners[0]!;
    return { rank, owner };
  }
  return null;
}

/**
 * The 1-based place a newly queued pipeline can expect, if nothing else arrives and no cap holds
 * anyone back: every pipeline of a higher priority, and at its own priority its tenant's `k`
 * pipelines (this one the last) interleaved with up to `k` of each other tenant's.
 */
export function expectedPosition(queues: readonly TenantQueue[], rank: number, owner: string): number {
  let ahead = 0;
  const mine = queues.find((q) => q.rank === rank && q.owner === owner)?.count ?? 1;
  for (const q of queues) {
    if (q.rank < rank) ahead += q.count;
    else if (q.rank === rank && q.owner !== owner) ahead += Math.min(q.count, mine);
  }
  return ahead + mine;
}
