/**
 * `npm run edge`: only the edge, with `wrangler dev`, as an operator runs it apart from the
 * host-agents. It takes ATOMIC_AGENT_TOKEN from the environment (the one the host-agents use), or
 * makes one up for this run and prints it.
 */
import { randomBytes } from "node:crypto";
import { runEdge } from "./run-edge.ts";

let token = process.env["ATOMIC_AGENT_TOKEN"];
if (!token) {
  token = randomBytes(24).toString("base64url");
  console.log(
    `[edge] ATOMIC_AGENT_TOKEN is not set; host-agents can link with this one for this run:\n  ATOMIC_AGENT_TOKEN=${token}\n`,
  );
}
const edge = runEdge({ token });
process.once("SIGINT", () => edge.stop("SIGINT"));
process.once("SIGTERM", () => edge.stop("SIGTERM"));
edge.exited.then((code) => process.exit(code));
