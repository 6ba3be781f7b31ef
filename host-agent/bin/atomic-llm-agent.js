#!/usr/bin/env node
// `atomic-llm-agent`: the reference Python LLM agent shipped in this package, started as
// `python3 -m atomic_agent` (standard library only), which also answers --help and --version. The
// agent drains on its first SIGTERM, SIGINT or SIGHUP, counts a repeat within a second as the same
// request and stops at once on a later one. It runs in a process group of its own, out of the
// terminal's reach, and this wrapper passes each stop signal on; under systemd it hears both.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const python = process.env.ATOMIC_PYTHON || "python3";
const child = spawn(python, ["-m", "atomic_agent", ...process.argv.slice(2)], {
  cwd: join(here, "..", "python"),
  stdio: ["ignore", "inherit", "inherit"],
  detached: true,
});
child.on("error", (error) => {
  console.error(
    `atomic-llm-agent: could not start ${python}: ${error.message} (set ATOMIC_PYTHON to a Python 3 interpreter)`,
  );
  process.exit(127);
});

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  // SIGHUP (the terminal went away) asks for the same graceful stop as SIGTERM.
  process.on(signal, () => child.kill(signal === "SIGHUP" ? "SIGTERM" : signal));
}
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
// Out of the terminal's group the agent would outlive a wrapper that ends some other way.
process.on("exit", () => {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
});
