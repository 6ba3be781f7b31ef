import type { SandboxFile } from "../../../../shared/src/index.ts";
import { languageOfPath, type GeneratedFile } from "../split-files.ts";

/** A program after pinned files were put in: its files, and the paths whose pinned text replaced the model's. */
export interface MergedProgram {
  files: GeneratedFile[];
  rejected: string[];
}

function pinnedFile(file: SandboxFile): GeneratedFile {
  return { path: file.path, content: file.content, language: languageOfPath(file.path) };
}

/**
 * Lays `answer` over `current`: a file the answer names replaces the one of the same path, a new
 * path is added, a file it does not name stays. Pinned files always keep their pinned text; a
 * different text for one of them is a rejected change. Order: the current files first, in their
 * order, then new ones, then pinned files nobody wrote.
 */
export function mergeProgram(
  current: readonly GeneratedFile[],
  answer: readonly GeneratedFile[],
  pinned: readonly SandboxFile[],
): MergedProgram {
  const byPath = new Map<string, GeneratedFile>();
  for (const file of current) byPath.set(file.path, file);
  const rejected: string[] = [];
  const pinnedByPath = new Map(pinned.map((file) => [file.path, file]));
  for (const file of answer) {
    const fixed = pinnedByPath.get(file.path);
    if (fixed !== undefined && normalized(fixed.content) !== normalized(file.content)) rejected.push(file.path);
    byPath.set(file.path, fixed === undefined ? file : pinnedFile(fixed));
  }
  for (const file of pinned) byPath.set(file.path, pinnedFile(file));
  return { files: [...byPath.values()], rejected };
}

// A fenced block always ends with a newline; a pinned file need not.
function normalized(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}

/** Whether two programs hold the same files with the same text. */
export function sameFiles(a: readonly GeneratedFile[], b: readonly GeneratedFile[]): boolean {
  return a.length === b.length && a.every((file, i) => file.path === b[i]?.path && file.content === b[i]?.content);
}

/**
 * The program as Markdown, one fenced block per file with its language and path in the info
 * string, in the format the splitter reads back. The fence is longer than any run of backticks in
 * the file, so a file holding a fence of its own cannot end its block early.
 */
export function renderProgram(files: readonly GeneratedFile[]): string {
  return files
    .map((file) => {
      const longest = Math.max(0, ...[...file.content.matchAll(/`+/g)].map((m) => m[0].length));
      const fence = "`".repeat(Math.max(3, longest + 1));
      const info = /\s/.test(file.path) ? `${file.language ?? "text"}` : `${file.language ?? "text"} ${file.path}`;
      const body = file.content.endsWith("\n") ? file.content : `${file.content}\n`;
      return `${fence}${info}\n${body}${fence}\n`;
    })
    .join("\n");
}
