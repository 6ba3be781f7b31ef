import type { ArtifactFile, ArtifactManifest, ArtifactsSummary } from "../../../../shared/src/index.ts";
import { LIMITS } from "../../../../shared/src/index.ts";
import type { StageHandler } from "../stage.ts";
import { programFiles } from "./program-files.ts";
import { buildTarBytes } from "../../../../shared/src/archive/tar.ts";

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Where the bundle holds a verified pipeline's verification report. */
const VERIFICATION_REPORT_PATH = ".atomic/verification.json";

/**
 * PACKAGING: takes the program's files (as verification settled them, else cut from the generated
 * text), stores each with a manifest (path, size, sha256, language, the verdict) and a tar bundle
 * of all of them, with the verification report when there is one: in the pipeline's own storage,
 * or in R2 when the bundle is large (artifact-store.ts).
 */
export const packagingStage: StageHandler = {
  name: "PACKAGING",
  applies: () => true,
  timeoutMs: (config) => Math.min(config.ATOMIC_STAGE_TIMEOUT_MS, 60_000),
  async start(ctx) {
    const id = ctx.record.id;
    const files = programFiles(ctx);
    if (files.length > LIMITS.artifactMaxFiles) {
      return {
        kind: "fail",
        error: {
          code: "invalid_request",
          message: `output holds ${files.length} files; the limit is ${LIMITS.artifactMaxFiles}`,
        },
        retryable: false,
      };
    }
    const encoder = new TextEncoder();
    const encoded = files.map((file) => ({ ...file, bytes: encoder.encode(file.content) }));
    const tooBig = encoded.find((file) => file.bytes.length > LIMITS.artifactMaxFileBytes);
    if (tooBig) {
      return {
        kind: "fail",
        error: {
          code: "invalid_request",
          message: `${tooBig.path} is ${tooBig.bytes.length} bytes; the artifact limit is ${LIMITS.artifactMaxFileBytes}`,
        },
        retryable: false,
      };
    }
    const entries: ArtifactFile[] = await Promise.all(
      encoded.map(async (file) => ({
        path: file.path,
        size: file.bytes.length,
        sha256: await sha256Hex(file.bytes),
        language: file.language,
      })),
    );
    const verification = ctx.record.verification;
    // The bundle carries the verdict in full beside the files, so it travels wherever they go.
    const report =
      verification === null
        ? []
        : [{ path: VERIFICATION_REPORT_PATH, bytes: encoder.encode(`${JSON.stringify(verification, null, 2)}\n`) }];
    const bundle = buildTarBytes([...encoded.map((file) => ({ path: file.path, bytes: file.bytes })), ...report]);
    const total = entries.reduce((sum, file) => sum + file.size, 0);
    const manifest: ArtifactManifest = {
      pipeline_id: id,
      verified: verification?.verified ?? false,
      verification,
      files: entries,
      total_bytes: total,
      bundle: { format: "tar", size: bundle.length, sha256: await sha256Hex(bundle) },
      created_at: new Date().toISOString(),
    };
    await ctx.artifacts.save(
      id,
      encoded.map((file, i) => ({ path: file.path, bytes: file.bytes, sha256: entries[i]!.sha256 })),
      bundle,
      manifest,
    );
    const artifacts: ArtifactsSummary = {
      files: entries,
      count: entries.length,
      total_bytes: total,
      manifest_url: `/api/pipelines/${encodeURIComponent(id)}/artifacts`,
      bundle_url: `/api/pipelines/${encodeURIComponent(id)}/artifacts.tar`,
    };
    return { kind: "complete", patch: { artifacts } };
  },
  async onResult() {
    return { kind: "fail", error: { code: "internal", message: "PACKAGING runs no job" }, retryable: false };
  },
};
