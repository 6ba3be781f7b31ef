import type { ClientEvent, ErrorEvent, ResultEvent } from "../../../shared/src/protocol/client-events.ts";
import { resolve } from "node:path";
import { writeArtifacts } from "../node.ts";
import type { CliContext } from "./context.ts";
import { describeError, EXIT } from "./exit-codes.ts";
import { onInterrupt } from "./interrupt.ts";
import { LiveView } from "./live-view.ts";
import { PlainView } from "./plain-view.ts";
import { errorSummary, resultSummary, type FilesOutcome } from "./summary.ts";

/** What the first Ctrl-C does: cancel the pipeline, or leave it running (detach, stop following). */
export type FirstInterrupt = "cancel" | "detach" | "stop";

export interface WatchSource {
  /** The events to show, from the first; they end with `result` or `error`. */
  events(signal: AbortSignal): AsyncIterable<ClientEvent>;
  /** The pipeline, when known before its first event (follow). */
  pipelineId: string | null;
}

const HINTS: Record<FirstInterrupt, string> = {
  cancel: "Ctrl-C cancels",
  detach: "Ctrl-C detaches",
  stop: "Ctrl-C stops following",
};

/**
 * Shows a pipeline's events until its end (the live view on a terminal, plain lines otherwise,
 * nothing with --json), handles Ctrl-C, writes its files to `out`, prints the verdict (or the
 * result as JSON), and answers the exit code.
 */
export async function watchPipeline(
  context: CliContext,
  source: WatchSource,
  onFirst: FirstInterrupt,
  out: string | undefined,
): Promise<number> {
  const { client, options, style } = context;
  const view = options.json
    ? null
    : style.live
      ? new LiveView(context.stdout, style, HINTS[onFirst])
      : new PlainView(context.err);
  const controller = new AbortController();
  let pipelineId = source.pipelineId;
  let cancelWanted = false;
  const cancel = (id: string) =>
    client.pipelines.cancel(id).catch((error: unknown) => {
      const { code, message } = describeError(error, options.url);
      view?.note(`the cancel was refused: ${code}: ${message}`);
    });
  const interrupts = onInterrupt(
    () => {
      if (onFirst === "cancel") {
        view?.note("cancelling the pipeline… (Ctrl-C again exits at once)");
        view?.hint("cancelling…");
        if (pipelineId === null) cancelWanted = true;
        else void cancel(pipelineId);
      } else controller.abort();
    },
    () => view?.close(),
  );

  let result: ResultEvent | null = null;
  let failure: ErrorEvent | null = null;
  try {
    for await (const event of source.events(controller.signal)) {
      if (pipelineId === null && event.pipeline_id !== undefined) {
        pipelineId = event.pipeline_id;
        if (cancelWanted) void cancel(pipelineId);
      }
      view?.event(event);
      if (event.type === "result") result = event;
      if (event.type === "error") failure = event;
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
    view?.close();
    const id = pipelineId ?? "(not known yet)";
    const what = onFirst === "detach" ? "detached" : "stopped following";
    context.err(`${what}: pipeline ${id} goes on; follow it with: atomic follow ${id}`);
    if (options.json) context.out(JSON.stringify({ success: false, detached: true, pipeline_id: pipelineId }));
    return EXIT.interrupted;
  } finally {
    view?.close();
    interrupts.dispose();
  }

  // Plain output keeps stdout for the program (and JSON); the summary goes with the progress lines.
  const say = style.live ? context.out : context.err;
  const sayStyle = style.live ? style : context.errStyle;
  if (failure !== null) {
    if (options.json) {
      context.out(
        JSON.stringify({
          success: false,
          error: { code: failure.code, message: failure.error },
          pipeline_id: failure.pipeline_id ?? pipelineId,
        }),
      );
    } else for (const line of errorSummary(failure, sayStyle)) say(line);
    return failure.code === "cancelled" && interrupts.count > 0 ? EXIT.interrupted : EXIT.failure;
  }
  if (result === null) throw new Error(`the events of pipeline ${pipelineId ?? "?"} ended without a result`);

  let files: FilesOutcome = { written: null, pipelineId: result.pipeline_id };
  if (out !== undefined && result.artifacts !== null) {
    files = { written: (await writeArtifacts(client, result.pipeline_id, out)).files, dir: resolve(out) };
  }
  if (options.json) {
    const pipeline = await client.pipelines.get(result.pipeline_id);
    context.out(
      JSON.stringify({
        success: true,
        request_id: pipeline.request_id,
        pipeline_id: result.pipeline_id,
        state: result.state,
        content: result.content,
        artifacts: result.artifacts,
        processing_time_ms: result.processing_time_ms,
        stages: result.stages,
        requirements: pipeline.requirements,
        verified: result.verified,
        verification: result.verification,
        export: result.export,
        files: files.written,
      }),
    );
  } else {
    if (!style.live) context.stdout.write(result.content.endsWith("\n") ? result.content : `${result.content}\n`);
    for (const line of resultSummary(result, files, sayStyle)) say(line);
  }
  return result.verification !== null && !result.verified ? EXIT.notVerified : EXIT.ok;
}
