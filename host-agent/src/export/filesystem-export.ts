import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { ExportResult } from "../../../shared/src/index.ts";
import { confinedPath } from "./export-paths.ts";
import type { FetchedFile } from "./fetch-files.ts";

/**
 * Writes files to `<root>/<path or pipeline id>/` atomically: everything goes into a fresh folder
 * beside the target first, which then takes the target's place in one rename. A reader sees the
 * old export or the new one, never half of one.
 */
export async function exportToFilesystem(
  root: string,
  pipelineId: string,
  path: string | undefined,
  files: FetchedFile[],
): Promise<ExportResult> {
  await mkdir(root, { recursive: true });
  const target = confinedPath(root, path ?? pipelineId, "export path");
  await mkdir(dirname(target), { recursive: true });
  const suffix = randomBytes(6).toString("hex");
  const staging = `${target}.partial-${suffix}`;
  await mkdir(staging, { recursive: true });
  try {
    for (const file of files) {
      const dest = confinedPath(staging, file.path, "file path");
      await mkdir(dirname(dest), { recursive: true });
      await writeFile(dest, file.bytes);
    }
    const old = `${target}.old-${suffix}`;
    let replaced = false;
    try {
      await rename(target, old);
      replaced = true;
    } catch {
      // No earlier export at this path: nothing to move aside.
    }
    await rename(staging, target);
    if (replaced) await rm(old, { recursive: true, force: true });
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return { type: "filesystem", path: target, files: files.length };
}
