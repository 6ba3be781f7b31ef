import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { AtomicClient } from "../../sdk/src/index.ts";
import type { HealthResponse } from "../../shared/src/protocol/api.ts";
import type { PoolOverviewEvent } from "../../shared/src/protocol/pool-events.ts";
import type { FeedStatus } from "./api/pool-feed.ts";

/** What every view reads: the client, the edge's health and the pool feed. */
export interface AppState {
  client: AtomicClient;
  health: HealthResponse | null;
  feedStatus: FeedStatus;
  overview: PoolOverviewEvent | null;
  /** Grows when the feed says pipelines changed (at most every half second): lists re-read then. */
  pipelinesTick: number;
  /**
   * The message to show for a failed call, or null when there is none to show: an aborted call,
   * or a refused key, which the app handles itself by forgetting the key and asking again.
   */
  report(error: unknown): string | null;
}

export const AppContext = createContext<AppState | null>(null);

export function useApp(): AppState {
  const state = useContext(AppContext);
  if (state === null) throw new Error("useApp outside the app");
  return state;
}
