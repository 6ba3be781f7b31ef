/**
 * The `atomic` command (sdk/dist/cli.js once built; `npm run atomic --` in the repository).
 */
import { runCli } from "./program.ts";

const code = await runCli(process.argv);
// Exit now (a socket or timer left behind must not hold the process), once what was written is out.
await Promise.all([process.stdout, process.stderr].map((s) => new Promise((resolve) => s.write("", resolve))));
process.exit(code);
