/**
 * Who is calling, as the routes decide access: the owner id of the key they presented (never the
 * key itself), and whether that key is an operator's. With no keys configured every caller is an
 * operator: the edge is open, as for local use.
 */
export interface Caller {
  /** `sha256("atomic-api-key:" + key)` in hex, cut to 32 characters; null for an open edge or an agent token. */
  owner: string | null;
  /** Operator keys (ATOMIC_OPERATOR_KEYS) see and cancel every pipeline. */
  operator: boolean;
}

/** What an open edge's callers are: operators, owning nothing. */
export const OPEN_CALLER: Caller = { owner: null, operator: true };

/**
 * Whether `caller` may read, follow, cancel or download a pipeline owned by `owner`: operators
 * always; anyone else only their own. A pipeline made while the edge was open (owner null) is an
 * operator's alone once keys are set.
 */
export function mayAccess(owner: string | null, caller: Caller): boolean {
  return caller.operator || (owner !== null && owner === caller.owner);
}
