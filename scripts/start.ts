/**
 * `npm start`: the edge locally with `wrangler dev`, offline, on ATOMIC_HOST:ATOMIC_HTTP_PORT
 * (default 0.0.0.0:8080), with an agent token generated for this run.
 */
import { randomBytes } from "node:crypto";
import { runEdge } from "./run-edge.ts";

const token = process.env["ATOMIC_AGENT_TOKEN"] || randomBytes(24).toString("base64url");
const edge = runEdge({ token });
const stop = (signal: NodeJS.Signals) => edge.stop(signal);
process.once("SIGINT", () => stop("SIGINT"));
process.once("SIGTERM", () => stop("SIGTERM"));
edge.exited.then((code) => process.exit(code));
