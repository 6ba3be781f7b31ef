/**
 * `node scripts/write-openapi.ts FILE`: writes the OpenAPI document the edge serves to FILE, for
 * `npm run lint:api`. It starts the real edge, as the tests do, and fetches
 * `GET /api/openapi.json`, so what is linted is what clients get.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { startEdge } from "../test/support/edge.ts";

const file = process.argv[2];
if (!file) {
  console.error("usage: node scripts/write-openapi.ts FILE");
  process.exit(2);
}
const edge = await startEdge();
try {
  const res = await fetch(`${edge.url}/api/openapi.json`);
  if (!res.ok) throw new Error(`GET /api/openapi.json answered ${res.status}: ${await res.text()}`);
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(file, `${JSON.stringify(await res.json(), null, 2)}\n`);
} finally {
  await edge.dispose();
}
