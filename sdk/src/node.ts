/**
 * @atomic-orchestrator/sdk/node: what needs Node's file system. The core stays free of Node
 * built-ins so it runs in browsers and Workers.
 */
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import type { ArtifactManifest } from "../../shared/src/protocol/api.ts";
import type { AtomicClient } from "./client.ts";
import { AtomicIntegrityError } from "./errors.ts";

export interface WrittenArtifacts {
  manifest: ArtifactManifest;
  /** The absolute path of every file written, in the manifest's order. */
  files: string[];
}

/** Where `path` lands inside `root`, or null when it would leave it (`..`, an absolute path, a drive). */
export function insideDir(root: string, path: string): string | null {
  if (path === "" || path.includes("\0") || isAbsolute(path)) return null;
  const target = resolve(root, path);
  const rel = relative(root, target);
  if (rel === "" || rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return null;
  return target;
}

/**
 * Downloads every file of pipeline `id` into `dir` (created if needed): each path is checked to
 * stay inside `dir`, each file's size and sha256 against the manifest before it is written.
 */
export async function writeArtifacts(
  client: AtomicClient,
  id: string,
  dir: string,
  options: { signal?: AbortSignal | undefined } = {},
): Promise<WrittenArtifacts> {
  const root = resolve(dir);
  const manifest = await client.artifacts.manifest(id, options);
  const targets = manifest.files.map((file) => {
    const target = insideDir(root, file.path);
    if (target === null)
      throw new AtomicIntegrityError(`the manifest names a path outside the folder: ${file.path}`, file.path);
    return { file, target };
  });
  const written: string[] = [];
  for (const { file, target } of targets) {
    const bytes = await client.artifacts.file(id, file.path, options);
    if (bytes.byteLength !== file.size) {
      throw new AtomicIntegrityError(
        `${file.path}: ${bytes.byteLength} bytes arrived, the manifest says ${file.size}`,
        file.path,
      );
    }
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    if (sha256 !== file.sha256) {
      throw new AtomicIntegrityError(
        `${file.path}: sha256 ${sha256} differs from the manifest's ${file.sha256}`,
        file.path,
      );
    }
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, bytes);
    written.push(target);
  }
  return { manifest, files: written };
}
