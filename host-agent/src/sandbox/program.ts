import { posix } from "node:path";
import type { ExecuteRequest, SandboxLanguage } from "../../../shared/src/protocol/sandbox.ts";
import { SandboxError } from "./errors.ts";

/** How each language runs: the interpreter in the image and the file name `code` is saved as. */
export const LANGUAGES: Readonly<Record<SandboxLanguage, { interpreter: string; mainFile: string }>> = {
  python: { interpreter: "python3", mainFile: "main.py" },
  javascript: { interpreter: "node", mainFile: "main.js" },
  shell: { interpreter: "sh", mainFile: "main.sh" },
};

/** One file to place in /workspace, as the exact bytes to write. */
export interface WorkspaceFile {
  path: string;
  bytes: Uint8Array;
}

/** What a run executes: the files to unpack and the command line, relative to /workspace. */
export interface Program {
  files: WorkspaceFile[];
  argv: string[];
}

const encoder = new TextEncoder();

function invalid(message: string): SandboxError {
  return new SandboxError("invalid_request", message);
}

// The wire schema already refuses absolute paths and `..`; this folds `./a//b` into `a/b` so that
// duplicates and the entrypoint compare by the file they name.
function normalizePath(path: string): string {
  const normal = posix.normalize(path);
  if (normal === "." || normal.endsWith("/") || normal.startsWith("../") || normal.startsWith("/")) {
    throw invalid(`file path ${JSON.stringify(path)} does not name a file inside the workspace`);
  }
  return normal;
}

/**
 * The files of a run as the exact bytes to write, their paths normalized. Throws
 * `invalid_request` when two name the same file.
 */
export function workspaceFiles(entries: ReadonlyArray<{ path: string; content: string }>): WorkspaceFile[] {
  const seen = new Set<string>();
  return entries.map(({ path, content }) => {
    const normal = normalizePath(path);
    if (seen.has(normal)) throw invalid(`file ${JSON.stringify(normal)} is given twice`);
    seen.add(normal);
    return { path: normal, bytes: encoder.encode(content) };
  });
}

/**
 * Turns a validated request into the files and command line of a run: `code` becomes
 * `main.py`/`main.js`/`main.sh`; `files` are placed as given, and the entrypoint (default: `code`'s
 * file if any, else the first file) must be one of them. Throws `invalid_request` on a conflict.
 */
export function planProgram(request: ExecuteRequest): Program {
  const language = LANGUAGES[request.language];
  const entries = [
    ...(request.code === undefined ? [] : [{ path: language.mainFile, content: request.code }]),
    ...(request.files ?? []),
  ];
  const files = workspaceFiles(entries);

  const first = files[0];
  if (first === undefined) throw invalid("give `code` or `files`");
  const entrypoint = request.entrypoint === undefined ? first.path : normalizePath(request.entrypoint);
  if (!files.some((file) => file.path === entrypoint)) {
    throw invalid(`entrypoint ${JSON.stringify(request.entrypoint)} is not one of the files`);
  }

  const args = request.args ?? [];
  // A command line cannot carry NUL bytes; say so rather than cut the argument short.
  if (args.some((arg) => arg.includes("\0"))) throw invalid("args must not contain NUL characters");
  // `python3 -c` would read a file named `-c` as an option; `./-c` is unambiguous.
  const script = entrypoint.startsWith("-") ? `./${entrypoint}` : entrypoint;
  return { files, argv: [language.interpreter, script, ...args] };
}
