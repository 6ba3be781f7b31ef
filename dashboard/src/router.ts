import type { PipelineState } from "../../shared/src/protocol/common.ts";

/** The state filters of the pipelines list, each the states it asks the API for. */
export const STATE_FILTERS = {
  all: [],
  active: ["QUEUED", "PARSING", "GENERATING", "VERIFYING", "REPAIRING", "PACKAGING", "EXPORTING"],
  completed: ["COMPLETED"],
  failed: ["FAILED"],
  cancelled: ["CANCELLED"],
} as const satisfies Record<string, readonly PipelineState[]>;
export type StateFilter = keyof typeof STATE_FILTERS;

export type Route =
  | { view: "overview" }
  | { view: "pipelines"; filter: StateFilter; cursor: string | null }
  | { view: "pipeline"; id: string }
  | { view: "sandbox" }
  | { view: "not-found"; path: string };

function isFilter(value: string | null): value is StateFilter {
  return value !== null && Object.hasOwn(STATE_FILTERS, value);
}

/**
 * The view a location hash names. Routing lives in the hash so the edge needs no fallback route:
 * every path other than the assets reaches the API.
 */
export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, "") || "/";
  const queryAt = raw.indexOf("?");
  const path = queryAt === -1 ? raw : raw.slice(0, queryAt);
  const query = new URLSearchParams(queryAt === -1 ? "" : raw.slice(queryAt + 1));
  const parts = path.split("/").filter((part) => part !== "");
  if (parts.length === 0) return { view: "overview" };
  if (parts[0] === "pipelines" && parts.length === 1) {
    const filter = query.get("state");
    return { view: "pipelines", filter: isFilter(filter) ? filter : "all", cursor: query.get("cursor") || null };
  }
  if (parts[0] === "pipelines" && parts.length === 2) {
    try {
      return { view: "pipeline", id: decodeURIComponent(parts[1] ?? "") };
    } catch {
      return { view: "not-found", path };
    }
  }
  if (parts[0] === "sandbox" && parts.length === 1) return { view: "sandbox" };
  return { view: "not-found", path };
}

/** The hash of a route, for links. */
export function routeHref(route: Route): string {
  switch (route.view) {
    case "overview":
      return "#/";
    case "pipelines": {
      const query = new URLSearchParams();
      if (route.filter !== "all") query.set("state", route.filter);
      if (route.cursor !== null) query.set("cursor", route.cursor);
      const text = query.toString();
      return text === "" ? "#/pipelines" : `#/pipelines?${text}`;
    }
    case "pipeline":
      return `#/pipelines/${encodeURIComponent(route.id)}`;
    case "sandbox":
      return "#/sandbox";
    case "not-found":
      return `#${route.path}`;
  }
}
