/**
 * `npm run build:agent`: bundles the host-agent CLI into host-agent/dist/cli.js, plain
 * JavaScript that Node runs from node_modules (it does not strip types there). The runtime
 * dependencies stay external: npm installs them with the package.
 */
import { build } from "esbuild";
import { chmodSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./run-edge.ts";

const outfile = join(ROOT, "host-agent", "dist", "cli.js");
await build({
  entryPoints: [join(ROOT, "host-agent", "src", "cli.ts")],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  external: ["ws", "zod", "dockerode"],
  legalComments: "none",
  logLevel: "warning",
});
chmodSync(outfile, 0o755);
console.log(`built ${outfile}`);
