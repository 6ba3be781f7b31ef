/**
 * `npm run build:sdk`: the publishable @atomic-orchestrator/sdk in sdk/dist. esbuild bundles the
 * core, the Node entry and the MCP server (with the shared schemas they use) as ESM; zod and
 * @modelcontextprotocol/sdk stay external, dependencies npm installs with the package. The `atomic`
 * CLI is a Node bundle of its own, dist/cli.js (a hashbang, executable; commander, log-update,
 * zod and the MCP SDK external, listed in sdk/package.json). tsc writes the declarations, the shared ones
 * included, under dist/types, with import paths a consumer's TypeScript resolves (`.js`).
 */
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { chmodSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./run-edge.ts";

const sdk = join(ROOT, "sdk");
const dist = join(sdk, "dist");
rmSync(dist, { recursive: true, force: true });

await build({
  entryPoints: {
    index: join(sdk, "src", "index.ts"),
    node: join(sdk, "src", "node.ts"),
    mcp: join(sdk, "src", "mcp", "server.ts"),
  },
  outdir: dist,
  bundle: true,
  splitting: true,
  platform: "neutral",
  format: "esm",
  target: "es2022",
  external: ["zod", "@modelcontextprotocol/sdk", "node:*"],
  chunkNames: "chunks/[name]-[hash]",
  legalComments: "none",
  logLevel: "warning",
});

// The `atomic` bin: one ESM file for Node, run by the hashbang.
const cli = join(dist, "cli.js");
await build({
  entryPoints: [join(sdk, "src", "cli", "main.ts")],
  outfile: cli,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: ["zod", "commander", "log-update", "@modelcontextprotocol/sdk"],
  banner: { js: "#!/usr/bin/env node" },
  legalComments: "none",
  logLevel: "warning",
});
chmodSync(cli, 0o755);

execFileSync(
  process.execPath,
  [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", join(sdk, "tsconfig.dist.json")],
  {
    stdio: "inherit",
  },
);

// The sources import with `.ts` (Node runs them as they are); published declarations name `.js`.
const relativeTs = /((?:from\s+|import\()\s*["'])(\.{1,2}\/[^"']+)\.ts(["'])/g;
for (const entry of readdirSync(join(dist, "types"), { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith(".d.ts")) continue;
  const path = join(entry.parentPath, entry.name);
  writeFileSync(path, readFileSync(path, "utf8").replace(relativeTs, "$1$2.js$3"));
}
console.log(`built ${dist}`);
