import { z } from "zod";
import type { ArtifactFile } from "../../../shared/src/protocol/common.ts";
import type { AtomicClient } from "../client.ts";

/** The most bytes of one file a tool result carries, and of all its files together. */
export interface FileLimits {
  fileBytes: number;
  totalBytes: number;
}
export const FILE_LIMITS: FileLimits = { fileBytes: 100_000, totalBytes: 400_000 };

/** A generated file in a tool result: its text, or null and why it was left out. */
export const ResultFile = z.object({
  path: z.string(),
  language: z.string().nullable(),
  size: z.number().int().nonnegative(),
  sha256: z.string(),
  content: z.string().nullable(),
  omitted: z.string().optional().describe("why content is null: the file or the result would be too large"),
});
export type ResultFile = z.infer<typeof ResultFile>;

export interface BoundedFiles {
  files: ResultFile[];
  /** A sentence saying what was left out and how to get it; undefined when nothing was. */
  note: string | undefined;
}

/**
 * The files of pipeline `id`, in the manifest's order, downloaded only while they fit: a file over
 * `fileBytes`, or one that would take the result over `totalBytes`, is listed without its content.
 */
export async function boundedFiles(
  client: AtomicClient,
  id: string,
  manifest: readonly ArtifactFile[],
  options: { signal?: AbortSignal | undefined; limits?: FileLimits | undefined } = {},
): Promise<BoundedFiles> {
  const limits = options.limits ?? FILE_LIMITS;
  const decoder = new TextDecoder();
  const files: ResultFile[] = [];
  let budget = limits.totalBytes;
  let left = 0;
  let leftBytes = 0;
  for (const file of manifest) {
    const base = { path: file.path, language: file.language, size: file.size, sha256: file.sha256 };
    let omitted: string | undefined;
    if (file.size > limits.fileBytes) omitted = `larger than ${limits.fileBytes} bytes`;
    else if (file.size > budget) omitted = `the result already holds ${limits.totalBytes - budget} bytes of files`;
    if (omitted !== undefined) {
      files.push({ ...base, content: null, omitted });
      left += 1;
      leftBytes += file.size;
      continue;
    }
    const bytes = await client.artifacts.file(id, file.path, { signal: options.signal });
    budget -= bytes.byteLength;
    files.push({ ...base, content: decoder.decode(bytes) });
  }
  const note =
    left === 0
      ? undefined
      : `${left} file(s) (${leftBytes} bytes) left out to keep the result under ${limits.totalBytes} bytes; ` +
        `download them from GET /api/pipelines/${id}/artifacts/<path> (or the whole tar from /api/pipelines/${id}/artifacts.tar)`;
  return { files, note };
}
