/**
 * Heartbeat intervals a peer of the agent link may stay silent before the other side counts the
 * link as dead: the edge then closes it and starts the agent's grace period, the host-agent
 * reconnects. Both sides use the same number so neither gives up first by accident.
 */
export const HEARTBEAT_MISSES = 3;
