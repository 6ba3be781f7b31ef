import { useEffect, useState } from "preact/hooks";
import type { MetricsResponse, PipelineSummary, StatusResponse } from "../../../shared/src/protocol/api.ts";
import type { RecentMetrics } from "../../../shared/src/protocol/pool-events.ts";
import { BarChart, LineChart } from "../components/chart.tsx";
import { CopyBlock } from "../components/copy-block.tsx";
import { HealthSummary } from "../components/health-summary.tsx";
import { StateBadge } from "../components/state-badge.tsx";
import { useApp } from "../context.ts";
import { ago, duration, instant } from "../format.ts";
import { useNow } from "../hooks.ts";
import { STATE_FILTERS } from "../router.ts";
import { ScrollTable } from "../components/scroll-table.tsx";

/** While the feed is down, metrics are read this often instead. */
const METRICS_REFRESH_MS = 10_000;

export function OverviewView() {
  const { client, health, overview, feedStatus, report } = useApp();
  const [fallbackMetrics, setFallbackMetrics] = useState<MetricsResponse | null>(null);
  const [metricsError, setMetricsError] = useState<string | null>(null);
  const live = feedStatus === "live" && overview !== null;

  useEffect(() => {
    if (live) return;
    const abort = new AbortController();
    const read = () =>
      client
        .metrics({ signal: abort.signal })
        .then((metrics) => {
          setFallbackMetrics(metrics);
          setMetricsError(null);
        })
        .catch((error: unknown) => setMetricsError(report(error)));
    void read();
    const timer = setInterval(read, METRICS_REFRESH_MS);
    return () => {
      abort.abort();
      clearInterval(timer);
    };
  }, [client, live, report]);

  const metrics = overview?.metrics ?? fallbackMetrics;
  return (
    <>
      <h1>Overview</h1>
      {health !== null ? <HealthSummary health={health} /> : null}
      {metricsError !== null ? (
        <p role="alert" class="error">
          Could not read the metrics: {metricsError}
        </p>
      ) : null}
      {metrics !== null && metrics.total_requests === 0 ? <FirstPrompt auth={health?.auth === "api_keys"} /> : null}
      {overview !== null ? (
        <>
          <Agents status={overview.status} />
          <Queue status={overview.status} />
          <Charts recent={overview.recent} />
        </>
      ) : (
        <p class="muted" role="status">
          Host-agents, the queue and the charts come from the pool feed, which is {feedStatus}.
        </p>
      )}
      {metrics !== null ? <Totals metrics={metrics} /> : null}
      <ActivePipelines />
    </>
  );
}

function FirstPrompt({ auth }: { auth: boolean }) {
  const origin = location.origin;
  const body = `{"prompt":"Write a Python function fibonacci(n)","metadata":{"language":"python"}}`;
  const curl =
    `curl -X POST ${origin}/api/generate -H 'Content-Type: application/json'` +
    (auth ? ` -H "Authorization: Bearer $ATOMIC_API_KEY"` : "") +
    ` -d '${body}'`;
  const cli = `ATOMIC_URL=${origin} npm run -s atomic -- generate "Write a Python function fibonacci(n)" --language python`;
  return (
    <section aria-labelledby="first-heading" class="card highlight">
      <h2 id="first-heading">Send your first prompt</h2>
      <p>Nothing has run on this edge yet. Start a pipeline with curl:</p>
      <CopyBlock label="curl command" text={curl} />
      <p>or with the CLI, from a checkout of this repository{auth ? " (with ATOMIC_API_KEY set)" : ""}:</p>
      <CopyBlock label="CLI command" text={cli} />
    </section>
  );
}

function Agents({ status }: { status: StatusResponse }) {
  const now = useNow(1000);
  return (
    <section aria-labelledby="agents-heading" class="card">
      <h2 id="agents-heading">Host-agents</h2>
      {status.agents.length === 0 ? (
        <p>No host-agent is linked: pipelines wait in the queue until one connects.</p>
      ) : (
        <ScrollTable
          label="Host-agents table"
          columns={["Agent", "Labels", "Capacity", "Running", "LLM", "Docker", "Link", "Last heartbeat"]}
        >
          {status.agents.map((agent) => (
            <tr key={agent.agent_id}>
              <th scope="row">
                <code>{agent.agent_id}</code>
              </th>
              <td>
                {Object.entries(agent.labels).length === 0
                  ? "–"
                  : Object.entries(agent.labels).map(([name, value]) => (
                      <span key={name} class="tag">{`${name}=${value}`}</span>
                    ))}
              </td>
              <td>{agent.capacity}</td>
              <td>{agent.running}</td>
              <td>{agent.llm}</td>
              <td>{agent.docker}</td>
              <td>
                {!agent.connected ? "disconnected" : agent.draining ? "draining" : "connected"}
                <div class="muted small">since {instant(agent.connected_at)}</div>
              </td>
              <td>{ago(agent.last_heartbeat_at, now)}</td>
            </tr>
          ))}
        </ScrollTable>
      )}
    </section>
  );
}

function Queue({ status }: { status: StatusResponse }) {
  return (
    <section aria-labelledby="queue-heading" class="card">
      <h2 id="queue-heading">Queue</h2>
      <dl class="facts">
        <div>
          <dt>Active pipelines</dt>
          <dd>
            {status.active_pipelines} of {status.max_concurrent}
          </dd>
        </div>
        <div>
          <dt>Queued</dt>
          <dd>
            {status.queue_size} of {status.max_queue_size}
          </dd>
        </div>
        <div>
          <dt>High priority</dt>
          <dd>{status.queue_by_priority.high}</dd>
        </div>
        <div>
          <dt>Normal priority</dt>
          <dd>{status.queue_by_priority.normal}</dd>
        </div>
        <div>
          <dt>Low priority</dt>
          <dd>{status.queue_by_priority.low}</dd>
        </div>
        <div>
          <dt>Scheduler</dt>
          <dd>{status.running ? "running" : "stopped"}</dd>
        </div>
      </dl>
      {status.tenants.length > 0 ? (
        <ScrollTable label="Pipelines per API key" columns={["API key (id)", "Running", "Queued"]}>
          {status.tenants.map((tenant) => (
            <tr key={tenant.owner ?? "open"}>
              <td>
                <code>{tenant.owner === null ? "open edge" : tenant.owner.slice(0, 12)}</code>
              </td>
              <td>{tenant.running}</td>
              <td>{tenant.queued}</td>
            </tr>
          ))}
        </ScrollTable>
      ) : null}
    </section>
  );
}

function Charts({ recent }: { recent: RecentMetrics }) {
  const ended = recent.buckets.map((bucket) => bucket.completed + bucket.failed + bucket.cancelled);
  const success = recent.buckets.map((bucket, index) => {
    const total = ended[index] ?? 0;
    return total === 0 ? null : (bucket.completed / total) * 100;
  });
  return (
    <section aria-labelledby="charts-heading" class="card">
      <h2 id="charts-heading">Recent activity</h2>
      <div class="charts">
        <BarChart title={`Throughput (pipelines per ${recent.bucket_ms / 1000} s)`} values={ended} unit="" />
        <LineChart
          title="Latency"
          unit=" ms"
          series={[
            { name: "p50", values: recent.buckets.map((bucket) => bucket.p50_ms) },
            { name: "p95", values: recent.buckets.map((bucket) => bucket.p95_ms) },
          ]}
        />
        <LineChart title="Success rate" unit="%" fixedMax={100} series={[{ name: "completed", values: success }]} />
      </div>
    </section>
  );
}

function Totals({ metrics }: { metrics: MetricsResponse }) {
  const rows: [string, string | number][] = [
    ["Pipelines", metrics.total_requests],
    ["Completed", metrics.successful_requests],
    ["Failed", metrics.failed_requests],
    ["Cancelled", metrics.cancelled_requests],
    ["Rejected", metrics.rejected_requests],
    ["Average latency", duration(metrics.average_latency_ms)],
    ["p50 latency", duration(metrics.p50_latency_ms)],
    ["p99 latency", duration(metrics.p99_latency_ms)],
    ["Jobs running", metrics.jobs_running],
    ["Jobs waiting", metrics.jobs_waiting],
    ["Sandbox runs ok", metrics.executions.ok],
    ["Sandbox runs failed", metrics.executions.failed + metrics.executions.timed_out],
    ["Verified", metrics.verification.verified],
    ["Verification failed", metrics.verification.failed],
  ];
  return (
    <section aria-labelledby="totals-heading" class="card">
      <h2 id="totals-heading">Totals</h2>
      <dl class="facts">
        {rows.map(([name, value]) => (
          <div key={name}>
            <dt>{name}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function ActivePipelines() {
  const { client, pipelinesTick, report } = useApp();
  const [rows, setRows] = useState<PipelineSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const abort = new AbortController();
    client.pipelines
      .list({ state: [...STATE_FILTERS.active], limit: 20, signal: abort.signal })
      .then((page) => {
        setRows(page.pipelines);
        setError(null);
      })
      .catch((failure: unknown) => setError(report(failure)));
    return () => abort.abort();
  }, [client, pipelinesTick, report]);
  return (
    <section aria-labelledby="active-heading" class="card">
      <h2 id="active-heading">Active pipelines</h2>
      {error !== null ? (
        <p role="alert" class="error">
          Could not list the pipelines: {error}
        </p>
      ) : null}
      {rows === null ? (
        <p class="muted">Loading…</p>
      ) : rows.length === 0 ? (
        <p>No pipeline is running or queued.</p>
      ) : (
        <ul class="plain">
          {rows.map((row) => (
            <li key={row.pipeline_id}>
              <a href={`#/pipelines/${encodeURIComponent(row.pipeline_id)}`}>{row.prompt || row.pipeline_id}</a>{" "}
              <StateBadge state={row.state} /> <span class="muted small">{instant(row.created_at)}</span>
            </li>
          ))}
        </ul>
      )}
      <p>
        <a href="#/pipelines">All pipelines</a>
      </p>
    </section>
  );
}
