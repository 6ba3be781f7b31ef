import { useEffect, useRef, useState } from "preact/hooks";
import { AtomicApiError } from "../../../sdk/src/index.ts";
import type { ArtifactManifest, PipelineView as View } from "../../../shared/src/protocol/api.ts";
import { FINAL_STATES, type ArtifactFile } from "../../../shared/src/protocol/common.ts";
import type { VerificationRound } from "../../../shared/src/protocol/verification.ts";
import { isAbort } from "../api/client.ts";
import { reconnectDelayMs } from "../backoff.ts";
import { FileTree } from "../components/file-tree.tsx";
import { StateBadge, VerifiedBadge } from "../components/state-badge.tsx";
import { WebhookCard } from "../components/webhook-card.tsx";
import { useApp } from "../context.ts";
import { bytes, duration, instant, textOf } from "../format.ts";
import { applyEvent, fromView, type LivePipeline } from "../pipeline-live.ts";
import { rowLabel } from "../stage-timeline.ts";

type StreamStatus = "loading" | "live" | "reconnecting" | "ended" | "stopped";

const STREAM_TEXT: Record<StreamStatus, string> = {
  loading: "loading",
  live: "following live",
  reconnecting: "reconnecting",
  ended: "ended",
  stopped: "stopped",
};

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export function PipelineView({ id }: { id: string }) {
  const { client, report } = useApp();
  const [view, setView] = useState<View | null>(null);
  const [live, setLive] = useState<LivePipeline | null>(null);
  const [stream, setStream] = useState<StreamStatus>("loading");
  const [error, setError] = useState<string | null>(null);
  const current = useRef<LivePipeline | null>(null);

  useEffect(() => {
    const abort = new AbortController();
    const { signal } = abort;
    // Tokens can arrive hundreds a second: the page redraws at most once a frame.
    let frame: number | null = null;
    const publish = () => {
      if (frame !== null) return;
      frame = requestAnimationFrame(() => {
        frame = null;
        setLive(current.current);
      });
    };
    const follow = async () => {
      let attempt = 0;
      let first: View;
      for (;;) {
        try {
          first = await client.pipelines.get(id, { signal });
          break;
        } catch (failure) {
          const message = report(failure);
          if (message === null || (failure instanceof AtomicApiError && failure.status < 500)) {
            if (message !== null) setError(message);
            setStream("stopped");
            return;
          }
          setError(message);
          await sleep(reconnectDelayMs(attempt++), signal);
          if (signal.aborted) return;
        }
      }
      setView(first);
      current.current = fromView(first);
      setLive(current.current);
      attempt = 0;
      while (!signal.aborted) {
        try {
          // After a failure the page says "reconnecting" until an event proves the stream is back.
          setStream(attempt === 0 ? "live" : "reconnecting");
          const after = current.current?.lastSeq ?? 0;
          for await (const event of client.pipelines.events(id, { after, signal })) {
            if (current.current !== null) current.current = applyEvent(current.current, event);
            if (attempt !== 0) {
              attempt = 0;
              setStream("live");
              setError(null);
            }
            publish();
          }
          setStream("ended");
          setError(null);
          // The result named the artifacts; the view also says how the pipeline ended, error included.
          setView(await client.pipelines.get(id, { signal }));
          return;
        } catch (failure) {
          if (signal.aborted || isAbort(failure)) return;
          const message = report(failure);
          if (message === null) return;
          setError(message);
          if (failure instanceof AtomicApiError && failure.status < 500 && failure.status !== 429) {
            setStream("stopped");
            return;
          }
          setStream("reconnecting");
          await sleep(reconnectDelayMs(attempt++), signal);
        }
      }
    };
    void follow();
    return () => {
      abort.abort();
      if (frame !== null) cancelAnimationFrame(frame);
    };
  }, [client, id, report]);

  const state = live?.state ?? view?.state ?? null;
  const final = state !== null && FINAL_STATES.has(state);
  return (
    <>
      <h1 class="break">Pipeline {id}</h1>
      <p>
        <a href="#/pipelines">All pipelines</a>
      </p>
      {error !== null ? (
        <p role="alert" class="error">
          {stream === "reconnecting" ? `The event stream dropped (${error}); reconnecting…` : error}
        </p>
      ) : null}
      {view === null || live === null ? (
        <p role="status" class="muted">
          {stream === "stopped" ? "Could not load this pipeline." : "Loading…"}
        </p>
      ) : (
        <>
          <Summary view={view} live={live} stream={stream} />
          <CancelControl
            id={id}
            final={final}
            onCancelled={(next) => {
              if (current.current === null) return;
              current.current = { ...current.current, state: next };
              setLive(current.current);
            }}
          />
          <Stages live={live} />
          <Output live={live} final={final} />
          {live.rounds.length > 0 || live.verification !== null ? <Verification live={live} /> : null}
          {live.error !== null ? (
            <section aria-labelledby="error-heading" class="card">
              <h2 id="error-heading">Error</h2>
              <p class="error">
                <code>{live.error.code}</code>: {live.error.message}
              </p>
            </section>
          ) : null}
          {live.result !== null || view.finished_at !== null ? <Result view={view} live={live} /> : null}
          {view.webhook !== null ? <WebhookCard id={id} initial={view.webhook} /> : null}
          {(view.artifacts?.count ?? live.result?.artifacts?.count ?? 0) > 0 ? <Artifacts id={id} /> : null}
        </>
      )}
    </>
  );
}

function Summary({ view, live, stream }: { view: View; live: LivePipeline; stream: StreamStatus }) {
  const requirements = view.requirements;
  return (
    <section aria-labelledby="summary-heading" class="card">
      <h2 id="summary-heading">Summary</h2>
      <dl class="facts">
        <div>
          <dt>State</dt>
          <dd>
            <StateBadge state={live.state} />
            {live.state === "QUEUED" && live.queuePosition !== null
              ? ` (position ${live.queuePosition + 1} in the queue)`
              : ""}
          </dd>
        </div>
        <div>
          <dt>Verified</dt>
          <dd>
            <VerifiedBadge verified={live.verified} status={live.verification?.status ?? null} />
          </dd>
        </div>
        <div>
          <dt>Events</dt>
          <dd>{STREAM_TEXT[stream]}</dd>
        </div>
        <div>
          <dt>Priority</dt>
          <dd>{view.priority}</dd>
        </div>
        <div>
          <dt>Pool</dt>
          <dd>{view.pool}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>{instant(view.created_at)}</dd>
        </div>
        <div>
          <dt>Request</dt>
          <dd>
            <code>{view.request_id}</code>
          </dd>
        </div>
        {requirements !== null ? (
          <>
            <div>
              <dt>Language</dt>
              <dd>
                {requirements.language}
                {requirements.framework !== null ? ` / ${requirements.framework}` : ""}
              </dd>
            </div>
            <div>
              <dt>Entry file</dt>
              <dd>
                <code>{requirements.entry_file}</code>
              </dd>
            </div>
          </>
        ) : null}
      </dl>
      {requirements !== null && requirements.summary !== "" ? (
        <>
          <h3>Prompt, as understood</h3>
          <p class="prose">{requirements.summary}</p>
        </>
      ) : null}
    </section>
  );
}

/** The cancel button while the pipeline runs; what the cancel did stays after it ended. */
function CancelControl({
  id,
  final,
  onCancelled,
}: {
  id: string;
  final: boolean;
  onCancelled(state: View["state"]): void;
}) {
  const { client, report } = useApp();
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  if (final && message === null) return null;
  return (
    <p class="actions">
      {final ? null : (
        <button
          type="button"
          class="danger"
          disabled={busy}
          onClick={() => {
            setBusy(true);
            setMessage(null);
            client.pipelines
              .cancel(id)
              .then((answer) => {
                onCancelled(answer.state);
                setMessage(`Cancelled: the pipeline is ${answer.state}.`);
              })
              .catch((failure: unknown) => {
                const text =
                  failure instanceof AtomicApiError && failure.code === "conflict"
                    ? "It had already ended."
                    : report(failure);
                if (text !== null) setMessage(`Could not cancel: ${text}`);
              })
              .finally(() => setBusy(false));
          }}
        >
          Cancel pipeline
        </button>
      )}
      <span role="status">{message ?? ""}</span>
    </p>
  );
}

function Stages({ live }: { live: LivePipeline }) {
  return (
    <section aria-labelledby="stages-heading" class="card">
      <h2 id="stages-heading">Stages</h2>
      {live.stages.length === 0 ? (
        <p class="muted">No stage has started yet.</p>
      ) : (
        <ol class="timeline">
          {live.stages.map((row) => (
            <li key={rowLabel(row)} class={`stage stage-${row.status}`}>
              <span class="stage-name">{rowLabel(row)}</span>
              <span class="badge">{row.status}</span>
              <span class="muted small">
                {row.attempts > 1 ? `${row.attempts} attempts · ` : ""}
                {duration(row.duration_ms)}
                {row.reason !== null ? ` · ${row.reason}` : ""}
              </span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function Output({ live, final }: { live: LivePipeline; final: boolean }) {
  return (
    <section aria-labelledby="output-heading" class="card">
      <h2 id="output-heading">Output</h2>
      <pre class="output" aria-live="polite" aria-labelledby="output-heading" tabIndex={0}>
        {live.output === "" ? (final ? "(no output)" : "Waiting for the first tokens…") : live.output}
      </pre>
      <p class="muted small">{live.output.length} characters</p>
    </section>
  );
}

function Verification({ live }: { live: LivePipeline }) {
  const verdict = live.verification;
  return (
    <section aria-labelledby="verification-heading" class="card">
      <h2 id="verification-heading">Verification</h2>
      {verdict !== null ? (
        <p>
          <VerifiedBadge verified={verdict.verified} status={verdict.status} /> after {verdict.repairs} of{" "}
          {verdict.max_repairs} repairs
          {verdict.skipped_reason !== undefined ? ` · ${verdict.skipped_reason}` : ""}
          {verdict.note !== undefined ? ` · ${verdict.note}` : ""}
        </p>
      ) : null}
      {live.rounds.map((round) => (
        <Round key={round.round} round={round} />
      ))}
    </section>
  );
}

function Round({ round }: { round: VerificationRound }) {
  return (
    <div class="round">
      <h3>
        Round {round.round}: {round.passed ? "passed" : "failed"}
      </h3>
      <p>
        {round.tests !== null
          ? `${round.tests.passed} passed, ${round.tests.failed} failed, ${round.tests.skipped} skipped`
          : "no test report"}
        {` · ${duration(round.duration_ms)}`}
        {round.skipped_reason !== undefined ? ` · ${round.skipped_reason}` : ""}
      </p>
      {round.failures.length > 0 ? (
        <ul class="failures">
          {round.failures.map((failure, index) => (
            <li key={index}>
              <code>{failure.name}</code>
              <pre>{failure.message}</pre>
            </li>
          ))}
        </ul>
      ) : null}
      {round.steps
        .filter((step) => step.exit_code !== 0)
        .map((step) => (
          <details key={step.name}>
            <summary>
              {step.name} exited {step.exit_code ?? "without a code"}
              {step.timed_out ? " (timed out)" : ""}
            </summary>
            <pre>{step.output}</pre>
          </details>
        ))}
    </div>
  );
}

function Result({ view, live }: { view: View; live: LivePipeline }) {
  const result = live.result;
  const exported = result?.export ?? view.export;
  return (
    <section aria-labelledby="result-heading" class="card">
      <h2 id="result-heading">Result</h2>
      <dl class="facts">
        <div>
          <dt>Final state</dt>
          <dd>
            <StateBadge state={result?.state ?? view.state} />
          </dd>
        </div>
        <div>
          <dt>Processing time</dt>
          <dd>{duration(result?.processing_time_ms ?? view.processing_time_ms)}</dd>
        </div>
        <div>
          <dt>Finished</dt>
          <dd>{instant(view.finished_at)}</dd>
        </div>
        {exported !== null ? (
          <div>
            <dt>Exported</dt>
            <dd>
              {exported.files} files to {exported.type} <code>{exported.path}</code>
              {exported.commit !== undefined ? ` (commit ${exported.commit.slice(0, 12)})` : ""}
            </dd>
          </div>
        ) : null}
      </dl>
    </section>
  );
}

function Artifacts({ id }: { id: string }) {
  const { client, report } = useApp();
  const [manifest, setManifest] = useState<ArtifactManifest | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<ArtifactFile | null>(null);
  const [contents, setContents] = useState<Uint8Array | null>(null);
  const [downloading, setDownloading] = useState(false);

  useEffect(() => {
    const abort = new AbortController();
    client.artifacts
      .manifest(id, { signal: abort.signal })
      .then(setManifest)
      .catch((failure: unknown) => setError(report(failure)));
    return () => abort.abort();
  }, [client, id, report]);

  useEffect(() => {
    if (selected === null) return;
    const abort = new AbortController();
    setContents(null);
    client.artifacts
      .file(id, selected.path, { signal: abort.signal })
      .then(setContents)
      .catch((failure: unknown) => setError(report(failure)));
    return () => abort.abort();
  }, [client, id, selected, report]);

  const download = async () => {
    setDownloading(true);
    try {
      const stream = await client.artifacts.tar(id);
      const blob = await new Response(stream).blob();
      const url = URL.createObjectURL(blob);
      const link = document.createElement("a");
      link.href = url;
      link.download = `${id}.tar`;
      document.body.append(link);
      link.click();
      link.remove();
      // The download has its own reference to the blob once it started.
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (failure) {
      setError(report(failure));
    } finally {
      setDownloading(false);
    }
  };

  const text = contents === null ? null : textOf(contents);
  return (
    <section aria-labelledby="artifacts-heading" class="card">
      <h2 id="artifacts-heading">Artifacts</h2>
      {error !== null ? (
        <p role="alert" class="error">
          {error}
        </p>
      ) : null}
      {manifest === null ? (
        <p class="muted">Loading the manifest…</p>
      ) : (
        <>
          <p>
            {manifest.files.length} files, {bytes(manifest.total_bytes)} · bundle {bytes(manifest.bundle.size)}{" "}
            <button type="button" onClick={() => void download()} disabled={downloading}>
              Download bundle
            </button>
          </p>
          <div class="artifacts">
            <FileTree files={manifest.files} selected={selected?.path ?? null} onSelect={setSelected} />
            <div class="viewer" role="region" aria-label="File viewer">
              {selected === null ? (
                <p class="muted">Choose a file to see it.</p>
              ) : (
                <>
                  <h3 class="break">{selected.path}</h3>
                  <p class="muted small break">
                    {bytes(selected.size)} · {selected.language ?? "unknown language"} · sha256{" "}
                    <code>{selected.sha256}</code>
                  </p>
                  {contents === null ? (
                    <p class="muted">Loading…</p>
                  ) : text === null ? (
                    <p>binary file, {contents.length} bytes</p>
                  ) : (
                    <pre class="file" tabIndex={0} aria-label={`Contents of ${selected.path}`}>
                      {text}
                    </pre>
                  )}
                </>
              )}
            </div>
          </div>
        </>
      )}
    </section>
  );
}
