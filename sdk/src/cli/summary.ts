import type { ErrorEvent, ResultEvent } from "../../../shared/src/protocol/client-events.ts";
import { clip, duration, verdict } from "./format.ts";
import type { Style } from "./style.ts";

/** Where the files of a pipeline went: written by --out, or left at the edge. */
export type FilesOutcome = { written: string[]; dir: string } | { written: null; pipelineId: string };

/** The end of a completed pipeline: the state and time, the stages, the verdict, the files. */
export function resultSummary(result: ResultEvent, files: FilesOutcome, style: Style): string[] {
  const { verified, text } = verdict(result.verification);
  const mark = (ok: boolean) => (style.live ? (ok ? style.ok("✔ ") : style.bad("✘ ")) : "");
  const stages = result.stages
    .map(
      (s) =>
        `${s.stage}${s.round === undefined ? "" : `#${s.round}`} ${s.duration_ms === null ? s.status : duration(s.duration_ms)}`,
    )
    .join(", ");
  const lines = [
    `${mark(true)}${style.bold(result.state)} in ${duration(result.processing_time_ms)} · pipeline ${result.pipeline_id}`,
    `stages: ${stages}`,
  ];
  const requested = result.verification !== null;
  const verdictLine = `${requested ? mark(verified) : ""}${text}`;
  lines.push(requested ? (verified ? style.ok(verdictLine) : style.bad(verdictLine)) : style.dim(verdictLine));
  const names = (result.artifacts?.files ?? []).map((f) => f.path);
  const listed = clip(names.join(", "), 200);
  if (names.length === 0) lines.push("files: none (no fenced code block named a file)");
  else if (files.written !== null) lines.push(`files: ${names.length} written to ${style.bold(files.dir)}: ${listed}`);
  else
    lines.push(
      `files: ${names.length} at the edge (${listed}); download them with: atomic show ${files.pipelineId} --out DIR`,
    );
  if (result.export !== null) lines.push(`exported: ${result.export.type} ${result.export.path}`);
  return lines;
}

/** The end of a pipeline that failed or was cancelled. */
export function errorSummary(event: ErrorEvent, style: Style): string[] {
  const state = event.code === "cancelled" ? "CANCELLED" : "FAILED";
  const head = `${style.live ? style.bad("✘ ") : ""}${style.bold(state)}: ${event.code}: ${event.error}`;
  return [event.pipeline_id === undefined ? head : `${head} · pipeline ${event.pipeline_id}`];
}
