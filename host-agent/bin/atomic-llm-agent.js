#!/usr/bin/env node
// `atomic-llm-agent`: the reference Python LLM agent shipped in this package, started as
// `python3 -m atomic_agent` (standard library only). The agent drains on its first SIGTERM or
// SIGINT and stops at once on the second, so it must hear one Ctrl-C once: it runs in a process
// group of its own, out of the terminal's reach, and this wrapper passes each stop request on.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// As the host-agent's SAME_STOP_WINDOW_MS (src/stop-signals.ts): a repeat this soon is one
// request arriving twice (a terminal signals its whole group, and npm passes the signal on too).
const SAME_STOP_WINDOW_MS = 1000;

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

let firstAt;
let passedOn = 0;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    const now = performance.now();
    firstAt ??= now;
    if (passedOn >= 2 || (passedOn === 1 && now - firstAt < SAME_STOP_WINDOW_MS)) return;
    passedOn += 1;
    // SIGHUP (the terminal went away) asks for the same graceful stop as SIGTERM.
    child.kill(signal === "SIGHUP" ? "SIGTERM" : signal);
  });
}
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
// Out of the terminal's group the agent would outlive a wrapper that ends some other way.
process.on("exit", () => {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
});
