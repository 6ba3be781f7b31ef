import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { HealthResponse } from "../../shared/src/protocol/api.ts";
import type { PoolOverviewEvent } from "../../shared/src/protocol/pool-events.ts";
import { createClient, describeError, isAbort, isUnauthorized } from "./api/client.ts";
import { PoolFeed, type FeedStatus } from "./api/pool-feed.ts";
import { forgetKey, readKey, storeKey } from "./auth/key-store.ts";
import { HealthSummary } from "./components/health-summary.tsx";
import { KeyForm } from "./components/key-form.tsx";
import { AppContext, type AppState } from "./context.ts";
import { useHash } from "./hooks.ts";
import { parseRoute, type Route } from "./router.ts";
import { OverviewView } from "./views/overview.tsx";
import { PipelineView } from "./views/pipeline.tsx";
import { PipelinesView } from "./views/pipelines.tsx";
import { SandboxView } from "./views/sandbox.tsx";

/** How often health is re-read while the pool feed is down (the feed carries it otherwise). */
const HEALTH_REFRESH_MS = 10_000;
/** Pipeline changes come in bursts; lists re-read once per burst, at most this often. */
const PIPELINES_DEBOUNCE_MS = 500;

function title(route: Route): string {
  switch (route.view) {
    case "overview":
      return "Overview";
    case "pipelines":
      return "Pipelines";
    case "pipeline":
      return `Pipeline ${route.id}`;
    case "sandbox":
      return "Sandbox";
    case "not-found":
      return "Not found";
  }
}

const FEED_TEXT: Record<FeedStatus, string> = {
  connecting: "connecting",
  live: "live",
  reconnecting: "reconnecting",
};

export function App() {
  const route = parseRoute(useHash());
  const [apiKey, setApiKey] = useState<string | null>(() => readKey());
  const [keyError, setKeyError] = useState<string | null>(null);
  const [health, setHealth] = useState<HealthResponse | null>(null);
  const [healthError, setHealthError] = useState<string | null>(null);
  const [feedStatus, setFeedStatus] = useState<FeedStatus>("connecting");
  const [overview, setOverview] = useState<PoolOverviewEvent | null>(null);
  const [pipelinesTick, setPipelinesTick] = useState(0);
  const client = useMemo(() => createClient(apiKey), [apiKey]);

  const rejectKey = useCallback((message: string) => {
    forgetKey();
    setApiKey(null);
    setKeyError(`The edge refused this key: ${message}`);
  }, []);

  const report = useCallback(
    (error: unknown): string | null => {
      if (isAbort(error)) return null;
      if (isUnauthorized(error)) {
        rejectKey(error.message);
        return null;
      }
      return describeError(error);
    },
    [rejectKey],
  );

  const feedLive = feedStatus === "live";
  useEffect(() => {
    if (feedLive) return;
    const abort = new AbortController();
    const read = () =>
      client
        .health({ signal: abort.signal })
        .then((answer) => {
          setHealth(answer);
          setHealthError(null);
        })
        .catch((error: unknown) => {
          if (!isAbort(error)) setHealthError(describeError(error));
        });
    void read();
    const timer = setInterval(read, HEALTH_REFRESH_MS);
    return () => {
      abort.abort();
      clearInterval(timer);
    };
  }, [client, feedLive]);

  // A key typed in (or kept from before) is checked with one call before any view or the feed
  // uses it, so a wrong one is refused on the form, once, and not by every view at the same time.
  const [checkedKey, setCheckedKey] = useState<string | null>(null);
  const needsKey = health?.auth === "api_keys" && apiKey === null;
  const checking = health?.auth === "api_keys" && apiKey !== null && checkedKey !== apiKey;
  const ready = health !== null && !needsKey && !checking;

  useEffect(() => {
    if (!checking || apiKey === null) return;
    const abort = new AbortController();
    client
      .metrics({ signal: abort.signal })
      .then(() => setCheckedKey(apiKey))
      .catch((error: unknown) => {
        if (isAbort(error)) return;
        if (isUnauthorized(error)) rejectKey(error.message);
        // Any other failure says nothing about the key: the views show it when they call.
        else setCheckedKey(apiKey);
      });
    return () => abort.abort();
  }, [client, apiKey, checking, rejectKey]);

  const debounce = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => {
    if (!ready) return;
    const feed = new PoolFeed({
      origin: location.origin,
      pool: "default",
      apiKey,
      handlers: {
        status: setFeedStatus,
        overview: (event) => {
          setOverview(event);
          setHealth(event.health);
        },
        pipelines: () => {
          if (debounce.current !== null) return;
          debounce.current = setTimeout(() => {
            debounce.current = null;
            setPipelinesTick((tick) => tick + 1);
          }, PIPELINES_DEBOUNCE_MS);
        },
      },
    });
    feed.start();
    return () => {
      feed.stop();
      if (debounce.current !== null) clearTimeout(debounce.current);
      debounce.current = null;
      setFeedStatus("connecting");
      setOverview(null);
    };
  }, [ready, apiKey]);

  // A new view starts at its top, with focus on it, as a page load would; a filter or page change
  // within the list keeps focus on the link that made it.
  const viewKey = route.view === "pipeline" ? `pipeline/${route.id}` : route.view;
  const firstView = useRef(true);
  useEffect(() => {
    document.title = `${title(route)} · Atomic Orchestrator`;
    if (firstView.current) {
      firstView.current = false;
      return;
    }
    scrollTo(0, 0);
    document.getElementById("main")?.focus({ preventScroll: true });
  }, [viewKey]);

  const acceptKey = (key: string) => {
    storeKey(key);
    setKeyError(null);
    setApiKey(key);
  };
  const dropKey = () => {
    forgetKey();
    setApiKey(null);
    setKeyError(null);
  };

  const state: AppState = { client, health, feedStatus, overview, pipelinesTick, report };
  const section = route.view === "pipeline" ? "pipelines" : route.view;

  return (
    <AppContext.Provider value={state}>
      <a class="skip" href="#main" onClick={(event) => skipToMain(event)}>
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/">
          Atomic Orchestrator
        </a>
        <nav aria-label="Main">
          <ul>
            {(
              [
                ["overview", "#/", "Overview"],
                ["pipelines", "#/pipelines", "Pipelines"],
                ["sandbox", "#/sandbox", "Sandbox"],
              ] as const
            ).map(([view, href, text]) => (
              <li key={view}>
                <a href={href} aria-current={section === view ? "page" : undefined}>
                  {text}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="top-end">
          {ready ? (
            <p class={`feed feed-${feedStatus}`} role="status">
              <span class="dot" aria-hidden="true" />
              Feed: {FEED_TEXT[feedStatus]}
            </p>
          ) : null}
          {apiKey !== null ? (
            <button type="button" class="secondary" onClick={dropKey}>
              Forget key
            </button>
          ) : health?.auth === "open" ? (
            <span class="muted">Open edge: no key needed</span>
          ) : null}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {health === null ? (
          <>
            <h1>{title(route)}</h1>
            {healthError === null ? (
              <p role="status">Connecting to the edge…</p>
            ) : (
              <p role="alert" class="error">
                The edge did not answer: {healthError}. Trying again every {HEALTH_REFRESH_MS / 1000} s.
              </p>
            )}
          </>
        ) : checking ? (
          <>
            <h1>{title(route)}</h1>
            <p role="status">Checking the key…</p>
          </>
        ) : needsKey ? (
          <>
            <h1>{title(route)}</h1>
            <HealthSummary health={health} />
            <KeyForm error={keyError} onKey={acceptKey} />
          </>
        ) : (
          <CurrentView route={route} />
        )}
      </main>
    </AppContext.Provider>
  );
}

function skipToMain(event: MouseEvent): void {
  // The hash is the router's: the skip link moves focus without navigating.
  event.preventDefault();
  document.getElementById("main")?.focus();
}

function CurrentView({ route }: { route: Route }) {
  switch (route.view) {
    case "overview":
      return <OverviewView />;
    case "pipelines":
      return <PipelinesView filter={route.filter} cursor={route.cursor} />;
    case "pipeline":
      return <PipelineView key={route.id} id={route.id} />;
    case "sandbox":
      return <SandboxView />;
    case "not-found":
      return (
        <>
          <h1>Not found</h1>
          <p>
            Nothing lives at <code>{route.path}</code>. <a href="#/">Back to the overview</a>.
          </p>
        </>
      );
  }
}
