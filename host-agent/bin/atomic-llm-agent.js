#!/usr/bin/env node
// `atomic-llm-agent`: the reference Python LLM agent shipped in this package, started as
// `python3 -m atomic_agent` (standard library only). Signals pass through, so SIGTERM drains it.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const python = process.env.ATOMIC_PYTHON || "python3";
const child = spawn(python, ["-m", "atomic_agent", ...process.argv.slice(2)], {
  cwd: join(here, "..", "python"),
  stdio: "inherit",
});
child.on("error", (error) => {
  console.error(
    `atomic-llm-agent: could not start ${python}: ${error.message} (set ATOMIC_PYTHON to a Python 3 interpreter)`,
  );
  process.exit(127);
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
