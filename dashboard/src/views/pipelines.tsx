import { useEffect, useState } from "preact/hooks";
import type { PipelineList } from "../../../shared/src/protocol/api.ts";
import { StateBadge, VerifiedBadge } from "../components/state-badge.tsx";
import { useApp } from "../context.ts";
import { duration, instant } from "../format.ts";
import { routeHref, STATE_FILTERS, type StateFilter } from "../router.ts";
import { ScrollTable } from "../components/scroll-table.tsx";

const FILTER_NAMES: Record<StateFilter, string> = {
  all: "All",
  active: "Active",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
};

const PAGE_SIZE = 25;

export function PipelinesView({ filter, cursor }: { filter: StateFilter; cursor: string | null }) {
  const { client, pipelinesTick, report } = useApp();
  const [page, setPage] = useState<PipelineList | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const abort = new AbortController();
    const states = STATE_FILTERS[filter];
    client.pipelines
      .list({
        state: states.length === 0 ? undefined : [...states],
        limit: PAGE_SIZE,
        cursor: cursor ?? undefined,
        signal: abort.signal,
      })
      .then((answer) => {
        setPage(answer);
        setError(null);
      })
      .catch((failure: unknown) => setError(report(failure)));
    return () => abort.abort();
  }, [client, filter, cursor, pipelinesTick, report]);

  return (
    <>
      <h1>Pipelines</h1>
      <nav aria-label="State filter" class="filters">
        <ul>
          {(Object.keys(FILTER_NAMES) as StateFilter[]).map((name) => (
            <li key={name}>
              <a
                href={routeHref({ view: "pipelines", filter: name, cursor: null })}
                aria-current={filter === name ? "page" : undefined}
              >
                {FILTER_NAMES[name]}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {error !== null ? (
        <p role="alert" class="error">
          Could not list the pipelines: {error}
        </p>
      ) : null}
      {page === null ? (
        <p class="muted" role="status">
          Loading…
        </p>
      ) : page.pipelines.length === 0 ? (
        <p>{cursor === null ? "No pipelines here yet." : "No more pipelines."}</p>
      ) : (
        <ScrollTable
          label="Pipelines table"
          columns={["Pipeline", "State", "Stage", "Priority", "Prompt", "Created", "Duration", "Verified"]}
        >
          {page.pipelines.map((row) => (
            <tr key={row.pipeline_id}>
              <th scope="row">
                <a href={routeHref({ view: "pipeline", id: row.pipeline_id })}>
                  <code>{row.pipeline_id}</code>
                </a>
              </th>
              <td>
                <StateBadge state={row.state} />
              </td>
              <td>{row.stage ?? "–"}</td>
              <td>{row.priority}</td>
              <td class="prompt">{row.prompt}</td>
              <td>{instant(row.created_at)}</td>
              <td>{duration(row.duration_ms)}</td>
              <td>
                <VerifiedBadge verified={row.verified} status={row.verification} />
              </td>
            </tr>
          ))}
        </ScrollTable>
      )}
      <nav aria-label="Pages" class="pager">
        {cursor !== null ? <a href={routeHref({ view: "pipelines", filter, cursor: null })}>First page</a> : null}
        {page?.next_cursor ? (
          <a href={routeHref({ view: "pipelines", filter, cursor: page.next_cursor })}>Next page</a>
        ) : null}
      </nav>
    </>
  );
}
