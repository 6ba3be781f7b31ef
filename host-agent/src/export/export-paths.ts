import { realpathSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { JobFailure } from "../jobs/job-failure.ts";

/**
 * Resolves `wanted` (relative) inside `root` and refuses anything that would land outside it:
 * absolute paths, `..`, and symlinks that point away. Returns an absolute path under root.
 */
export function confinedPath(root: string, wanted: string, what: string): string {
  if (wanted.includes("\0") || isAbsolute(wanted)) {
    throw new JobFailure(
      "invalid_request",
      `${what} must be a relative path inside ATOMIC_EXPORT_DIR, not ${JSON.stringify(wanted)}`,
      false,
    );
  }
  const realRoot = realpathSync(root);
  const target = resolve(realRoot, wanted);
  const rel = relative(realRoot, target);
  if (rel === "" || rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new JobFailure("invalid_request", `${what} ${JSON.stringify(wanted)} escapes ATOMIC_EXPORT_DIR`, false);
  }
  // A symlink anywhere along an existing prefix could still lead out: resolve what exists.
  let probe = target;
  for (;;) {
    try {
      const real = realpathSync(probe);
      const realRel = relative(realRoot, real);
      if (realRel.startsWith("..") || isAbsolute(realRel)) {
        throw new JobFailure(
          "invalid_request",
          `${what} ${JSON.stringify(wanted)} leads outside ATOMIC_EXPORT_DIR through a link`,
          false,
        );
      }
      break;
    } catch (error) {
      if (error instanceof JobFailure) throw error;
      const parent = resolve(probe, "..");
      if (parent === probe) break;
      probe = parent;
    }
  }
  return target;
}
