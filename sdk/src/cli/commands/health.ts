import type { CliCommand } from "../command.ts";
import { EXIT } from "../exit-codes.ts";
import { duration } from "../format.ts";

/** `atomic health`: GET /health; exit code 0 when the edge says ok, 1 when degraded or unreachable. */
export const health: CliCommand = {
  declare(program, act) {
    program
      .command("health")
      .description("the edge's health: its agents, LLM, Docker, auth (exit code 1 when degraded or unreachable)")
      .action(
        act(async (context) => {
          const answer = await context.client.health();
          if (context.options.json) context.out(JSON.stringify(answer));
          else {
            const { style } = context;
            const status = answer.status === "ok" ? style.ok(answer.status) : style.bad(answer.status);
            context.out(
              `${status} · ${context.options.url} · version ${answer.version} · up ${duration(answer.uptime_ms)}`,
            );
            context.out(`agents: ${answer.agents_connected}`);
            context.out(`llm: ${answer.llm_agent}${answer.llm_provider === null ? "" : ` (${answer.llm_provider})`}`);
            context.out(`docker: ${answer.docker}`);
            context.out(`auth: ${answer.auth === "open" ? "open (no keys)" : "API keys"}`);
          }
          return answer.status === "ok" ? EXIT.ok : EXIT.failure;
        }),
      );
  },
};
