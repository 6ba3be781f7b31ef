import { describe, expect, it } from "vitest";
import { parseRoute, routeHref } from "./router.ts";

describe("router", () => {
  it("parses every view", () => {
    expect(parseRoute("")).toEqual({ view: "overview" });
    expect(parseRoute("#/")).toEqual({ view: "overview" });
    expect(parseRoute("#/pipelines")).toEqual({ view: "pipelines", filter: "all", cursor: null });
    expect(parseRoute("#/pipelines?state=failed&cursor=abc")).toEqual({
      view: "pipelines",
      filter: "failed",
      cursor: "abc",
    });
    expect(parseRoute("#/pipelines?state=nonsense")).toEqual({ view: "pipelines", filter: "all", cursor: null });
    expect(parseRoute("#/pipelines/p_1%2Fx")).toEqual({ view: "pipeline", id: "p_1/x" });
    expect(parseRoute("#/sandbox")).toEqual({ view: "sandbox" });
    expect(parseRoute("#/nope")).toEqual({ view: "not-found", path: "/nope" });
    expect(parseRoute("#/pipelines/%E0%A4%A")).toEqual({ view: "not-found", path: "/pipelines/%E0%A4%A" });
  });

  it("writes hashes that parse back", () => {
    const routes = [
      { view: "overview" },
      { view: "pipelines", filter: "all", cursor: null },
      { view: "pipelines", filter: "active", cursor: "c/2=" },
      { view: "pipeline", id: "p 1/?" },
      { view: "sandbox" },
    ] as const;
    for (const route of routes) expect(parseRoute(routeHref(route))).toEqual(route);
  });
});
