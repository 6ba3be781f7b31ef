import { CancelResponse, PipelineList, PipelineView, type PipelineSummary } from "../../shared/src/protocol/api.ts";
import type { ClientEvent } from "../../shared/src/protocol/client-events.ts";
import type { PipelineState } from "../../shared/src/protocol/common.ts";
import type { StreamOptions, StreamSource } from "./event-stream.ts";
import { RETRY_IDEMPOTENT, RETRY_RATE_LIMITED, type Transport } from "./transport.ts";

/** The filters and page of `GET /api/pipelines`. */
export interface PipelineQuery {
  pool?: string | undefined;
  /** One state or several (any of them). */
  state?: PipelineState | PipelineState[] | undefined;
  /** Created at or after this instant (an ISO 8601 string or a Date). */
  since?: string | Date | undefined;
  /** Created before this instant. */
  until?: string | Date | undefined;
  /** Rows a page (the edge's default 20, at most 100). */
  limit?: number | undefined;
  /** The `next_cursor` of the page before. */
  cursor?: string | undefined;
  signal?: AbortSignal | undefined;
}

export interface EventsOptions extends StreamOptions {
  /** Start after this seq (0, the default: from the first event). */
  after?: number | undefined;
}

type OpenEvents = (source: StreamSource, options: StreamOptions) => AsyncGenerator<ClientEvent, void, undefined>;

function instant(value: string | Date | undefined): string | undefined {
  return value instanceof Date ? value.toISOString() : value;
}

/** `client.pipelines`: one pipeline's state, the list, cancelling, and the event log. */
export class Pipelines {
  readonly #transport: Transport;
  readonly #openEvents: OpenEvents;

  constructor(transport: Transport, openEvents: OpenEvents) {
    this.#transport = transport;
    this.#openEvents = openEvents;
  }

  /** `GET /api/pipelines/:id`: state, stage, progress, timings, artifacts, error. */
  async get(id: string, options: { signal?: AbortSignal | undefined } = {}): Promise<PipelineView> {
    return this.#transport.json(`api/pipelines/${encodeURIComponent(id)}`, PipelineView, {
      signal: options.signal,
      retry: RETRY_IDEMPOTENT,
      idempotent: true,
    });
  }

  /** One page of `GET /api/pipelines`, newest first; pass its `next_cursor` as `cursor` for the next. */
  async list(query: PipelineQuery = {}): Promise<PipelineList> {
    return this.#transport.json("api/pipelines", PipelineList, {
      query: {
        pool: query.pool,
        state: Array.isArray(query.state) ? query.state.join(",") : query.state,
        since: instant(query.since),
        until: instant(query.until),
        limit: query.limit,
        cursor: query.cursor,
      },
      signal: query.signal,
      retry: RETRY_IDEMPOTENT,
      idempotent: true,
    });
  }

  /** Every pipeline `query` selects, page after page (`limit` sets the page size). */
  async *listAll(query: Omit<PipelineQuery, "cursor"> = {}): AsyncGenerator<PipelineSummary, void, undefined> {
    let cursor: string | undefined;
    do {
      const page = await this.list({ ...query, cursor });
      yield* page.pipelines;
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
  }

  /** `POST /api/pipelines/:id/cancel`: cancels it and its running job (409 `conflict` when it already ended). */
  async cancel(id: string, options: { signal?: AbortSignal | undefined } = {}): Promise<CancelResponse> {
    return this.#transport.json(`api/pipelines/${encodeURIComponent(id)}/cancel`, CancelResponse, {
      method: "POST",
      signal: options.signal,
      retry: RETRY_RATE_LIMITED,
      idempotent: false,
    });
  }

  /**
   * The pipeline's events after `after` over `/ws/pipelines/:id`, then live ones, each exactly once
   * across reconnections; ends after `result` or `error` (at once for a finished pipeline with
   * nothing after `after`).
   */
  events(id: string, options: EventsOptions = {}): AsyncGenerator<ClientEvent, void, undefined> {
    return this.#openEvents({ kind: "follow", pipelineId: id, after: options.after ?? 0 }, options);
  }
}
