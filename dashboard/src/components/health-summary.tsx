import type { HealthResponse } from "../../../shared/src/protocol/api.ts";
import { duration } from "../format.ts";

/** The edge's health in a few words: what `/health` answers to anyone. */
export function HealthSummary({ health }: { health: HealthResponse }) {
  return (
    <section aria-labelledby="health-heading" class="card">
      <h2 id="health-heading">Health</h2>
      <dl class="facts">
        <div>
          <dt>Status</dt>
          <dd>
            <span class={`badge badge-${health.status === "ok" ? "good" : "warn"}`}>{health.status}</span>
          </dd>
        </div>
        <div>
          <dt>LLM</dt>
          <dd>
            {health.llm_agent}
            {health.llm_provider !== null ? ` (${health.llm_provider})` : ""}
          </dd>
        </div>
        <div>
          <dt>Docker</dt>
          <dd>{health.docker}</dd>
        </div>
        <div>
          <dt>Host-agents</dt>
          <dd>{health.agents_connected}</dd>
        </div>
        <div>
          <dt>Version</dt>
          <dd>{health.version}</dd>
        </div>
        <div>
          <dt>Uptime</dt>
          <dd>{duration(health.uptime_ms)}</dd>
        </div>
        <div>
          <dt>Auth</dt>
          <dd>{health.auth === "api_keys" ? "API keys" : "open"}</dd>
        </div>
      </dl>
    </section>
  );
}
