/** A program's files: the first answer cut into files as the pipeline cuts it. */
import type { Requirements, SandboxFile } from "../../shared/src/index.ts";
// The edge's own splitter (pure TypeScript), so the first answer becomes exactly the files the
// pipeline's round 0 verified.
import { splitFiles } from "../../edge/src/pipeline/split-files.ts";

/** The files of a generated text, with the pipeline's fallback name for an unnamed block. */
export function filesOfAnswer(
  text: string,
  requirements: Pick<Requirements, "entry_file" | "language">,
): SandboxFile[] {
  return splitFiles(text, requirements.entry_file, requirements.language).map((file) => ({
    path: file.path,
    content: file.content,
  }));
}

/** Whether two programs hold the same files with the same text, in any order. */
export function sameProgram(a: readonly SandboxFile[], b: readonly SandboxFile[]): boolean {
  if (a.length !== b.length) return false;
  const byPath = new Map(a.map((file) => [file.path, file.content]));
  return b.every((file) => byPath.get(file.path) === file.content);
}
