import { ExportResult } from "../../../../shared/src/index.ts";
import { artifactFileUrl } from "../links.ts";
import type { StageHandler } from "../stage.ts";
import { verdictLine } from "../verification/verdict.ts";

/**
 * EXPORTING: when the request names `metadata.export`, an `export` job on a host-agent writes the
 * files under its ATOMIC_EXPORT_DIR or commits them to a local git repository. The agent fetches
 * each file from the edge by its artifact URL.
 */
export const exportingStage: StageHandler = {
  name: "EXPORTING",
  applies: (request) => request.metadata?.export !== undefined,
  async start(ctx) {
    const target = ctx.record.request.metadata?.export;
    const artifacts = ctx.record.artifacts;
    if (!target || !artifacts) return { kind: "complete" };
    const verification = ctx.record.verification;
    // A git export's commit says whether what it commits was verified.
    const withVerdict =
      target.type === "git" && verification !== null
        ? {
            ...target,
            message: `${(target.message ?? `Export pipeline ${ctx.record.id}`).slice(0, 3_800)}\n\n${verdictLine(verification)}`,
          }
        : target;
    const files = artifacts.files.map((file) => ({
      path: file.path,
      size: file.size,
      sha256: file.sha256,
      url: artifactFileUrl(ctx.record.id, file.path),
    }));
    return {
      kind: "job",
      job: { kind: "export", payload: { pipeline_id: ctx.record.id, target: withVerdict, files }, mode: "wait" },
    };
  },
  async onResult(_ctx, outcome) {
    if (!outcome.ok) return { kind: "fail", error: outcome.error, retryable: outcome.error.retryable };
    const result = ExportResult.safeParse(outcome.result);
    if (!result.success) {
      return {
        kind: "fail",
        error: { code: "agent_error", message: "export answered an invalid result" },
        retryable: false,
      };
    }
    return { kind: "complete", patch: { export: result.data } };
  },
};
