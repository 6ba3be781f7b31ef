import { Hono } from "hono";
import { z } from "zod";
import type { PipelineList, PipelineSummary, PipelineView } from "../../../../shared/src/index.ts";
import { FINAL_STATES, PIPELINE_LIST_LIMITS, PipelineState, PoolName } from "../../../../shared/src/index.ts";
import type { Caller } from "../../access/caller.ts";
import { decodeCursor, encodeCursor, type IndexRow } from "../../scheduler/pipeline-index.ts";
import type { AppEnv } from "../context.ts";
import { ApiError, describeZodError } from "../errors.ts";

const Time = z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time, e.g. 2026-12-01T18:00:00Z" });

/** The query of `GET /api/pipelines`; a parameter it does not know is a 400 naming it. */
const ListQuery = z
  .object({
    pool: PoolName.default("default"),
    state: z
      .string()
      .transform((raw) => raw.split(","))
      .pipe(z.array(PipelineState).min(1))
      .optional(),
    since: Time.optional(),
    until: Time.optional(),
    limit: z.coerce
      .number({ error: "limit must be a number" })
      .int("limit must be a whole number")
      .min(1, "limit must be at least 1")
      .max(PIPELINE_LIST_LIMITS.max, `limit may be at most ${PIPELINE_LIST_LIMITS.max}`)
      .default(PIPELINE_LIST_LIMITS.default),
    cursor: z.string().optional(),
  })
  .strict();

export const pipelineListRoutes = new Hono<AppEnv>();

function summaryOf(row: IndexRow, live: PipelineView | null, pool: string): PipelineSummary {
  const state = live?.state ?? row.final_state ?? "QUEUED";
  const finishedAt = live?.finished_at ?? (row.finished_at === null ? null : new Date(row.finished_at).toISOString());
  return {
    pipeline_id: row.id,
    state,
    stage: live?.stage ?? null,
    priority: row.priority,
    pool,
    created_at: new Date(row.created_at).toISOString(),
    finished_at: finishedAt,
    duration_ms: row.finished_at === null ? (live?.processing_time_ms ?? null) : row.finished_at - row.created_at,
    prompt: row.prompt,
    verified: live?.verified ?? row.verified === 1,
    verification: live?.verification?.status ?? row.verification,
  };
}

/**
 * `GET /api/pipelines`: a pool's recent pipelines, newest first, the caller's own (an operator's:
 * everyone's). Rows of running pipelines take their state and stage from the pipeline itself, so a
 * row says what `GET /api/pipelines/:id` says. Paging follows creation time, which never changes:
 * pipelines that end during a walk neither repeat nor go missing; new ones come before the first page.
 */
pipelineListRoutes.get("/api/pipelines", async (c) => {
  const parsed = ListQuery.safeParse(c.req.query());
  if (!parsed.success) throw new ApiError("invalid_request", describeZodError(parsed.error));
  const query = parsed.data;
  const cursor = query.cursor === undefined ? null : decodeCursor(query.cursor);
  if (query.cursor !== undefined && cursor === null) {
    throw new ApiError("invalid_request", "cursor: not a cursor this API handed out (use next_cursor as it is)");
  }
  const states = query.state ?? [];
  const caller: Caller = c.get("caller");
  const rows = await c.env.SCHEDULER.getByName(query.pool).listPipelines({
    ...(caller.operator ? {} : { owner: caller.owner }),
    finalStates: states.filter((state) => FINAL_STATES.has(state)),
    active: states.length === 0 ? false : states.some((state) => !FINAL_STATES.has(state)),
    since: query.since === undefined ? null : Date.parse(query.since),
    until: query.until === undefined ? null : Date.parse(query.until),
    limit: query.limit,
    cursor,
  });
  const page = rows.slice(0, query.limit);
  const live = await Promise.all(
    page.map((row) => (row.final_state === null ? c.env.PIPELINE.getByName(row.id).view(caller) : null)),
  );
  const wanted = new Set<string>(states);
  const pipelines = page
    .map((row, i) => summaryOf(row, live[i] ?? null, query.pool))
    // A running pipeline's state is only known here: a filter on it applies after the lookup.
    .filter((summary) => wanted.size === 0 || wanted.has(summary.state));
  const last = page.at(-1);
  const body: PipelineList = {
    pipelines,
    next_cursor: rows.length > query.limit && last ? encodeCursor(last) : null,
  };
  return c.json(body);
});
