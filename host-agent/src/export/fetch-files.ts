import { createHash } from "node:crypto";
import type { ExportPayload } from "../../../shared/src/index.ts";
import { JobFailure } from "../jobs/job-failure.ts";

export interface FetchedFile {
  path: string;
  bytes: Buffer;
}

/**
 * Downloads a pipeline's files from the edge (with the agent token) and checks each against the
 * size and sha256 in the manifest, so an export never writes a file that differs from the artifact.
 */
export async function fetchFiles(
  payload: ExportPayload,
  edgeUrl: string,
  token: string,
  signal: AbortSignal,
): Promise<FetchedFile[]> {
  const files: FetchedFile[] = [];
  for (const file of payload.files) {
    const url = new URL(file.url, edgeUrl);
    if (url.origin !== new URL(edgeUrl).origin) {
      throw new JobFailure("invalid_request", `export file URL ${file.url} is not on the edge`, false);
    }
    let res: Response;
    try {
      res = await fetch(url, { headers: { Authorization: `Bearer ${token}` }, signal });
    } catch (error) {
      throw new JobFailure("export_error", `could not download ${file.path}: ${String(error)}`, true);
    }
    if (!res.ok)
      throw new JobFailure("export_error", `downloading ${file.path} answered ${res.status}`, res.status >= 500);
    const bytes = Buffer.from(await res.arrayBuffer());
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    if (bytes.length !== file.size || sha256 !== file.sha256) {
      throw new JobFailure(
        "export_error",
        `${file.path} arrived with a different size or sha256 than its manifest`,
        true,
      );
    }
    files.push({ path: file.path, bytes });
  }
  return files;
}
