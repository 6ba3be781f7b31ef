import { describe, expect, it } from "vitest";
import { readCliArgs, usage } from "./cli-args.ts";
import { HostAgentEnv } from "./config.ts";
import { settingHelp } from "./env-setting.ts";

describe("the host-agent's command line", () => {
  it("runs with no arguments, and prints help or the version when asked", () => {
    expect(readCliArgs([])).toEqual({ kind: "run" });
    expect(readCliArgs(["--help"])).toEqual({ kind: "help" });
    expect(readCliArgs(["-h"])).toEqual({ kind: "help" });
    expect(readCliArgs(["--version"])).toEqual({ kind: "version" });
    expect(readCliArgs(["--version", "--help"])).toEqual({ kind: "help" });
  });

  it("refuses anything else, naming it", () => {
    expect(readCliArgs(["--threads=4"])).toEqual({ kind: "error", message: expect.stringContaining("--threads") });
    expect(readCliArgs(["-x"])).toEqual({ kind: "error", message: expect.stringContaining("-x") });
    expect(readCliArgs(["-hx"])).toEqual({ kind: "error", message: expect.stringContaining("-x") });
    expect(readCliArgs(["start"])).toEqual({ kind: "error", message: expect.stringContaining('"start"') });
    expect(readCliArgs(["--help=yes"])).toEqual({ kind: "error", message: "--help takes no value" });
    expect(readCliArgs(["--", "--help"])).toEqual({ kind: "error", message: expect.stringContaining('"--help"') });
  });

  it("documents every variable of the config schema, with its default and meaning", () => {
    const text = usage();
    const names = Object.keys(HostAgentEnv.shape);
    expect(names.length).toBeGreaterThan(20);
    for (const [name, schema] of Object.entries(HostAgentEnv.shape)) {
      const help = settingHelp.get(schema);
      expect(help, name).toBeDefined();
      const heading =
        help?.shownDefault === undefined ? `  ${name}  (required)` : `  ${name}  (default: ${help.shownDefault})`;
      expect(text, name).toContain(`${heading}\n`);
      // The meaning follows, wrapped onto indented lines.
      const after = text.slice(text.indexOf(`${heading}\n`) + heading.length + 1).split(/\n(?! {6})/)[0] ?? "";
      expect(after.replace(/\s+/g, " ").trim(), name).toBe(help?.meaning);
    }
    expect(text).toContain("  ATOMIC_AGENT_TOKEN  (required)\n");
    expect(text).toContain("  ATOMIC_THREADS  (default: 4)\n");
  });

  it("shows a default that the config schema applies", () => {
    const parsed = HostAgentEnv.parse({ ATOMIC_AGENT_TOKEN: "t" });
    for (const [name, schema] of Object.entries(HostAgentEnv.shape)) {
      const shown = settingHelp.get(schema)?.shownDefault;
      if (shown === undefined || !/^\d+$/.test(shown)) continue;
      expect(parsed[name as keyof typeof parsed], name).toBe(Number(shown));
    }
  });
});
