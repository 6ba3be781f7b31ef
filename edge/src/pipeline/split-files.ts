/** One file cut out of generated text. */
export interface GeneratedFile {
  path: string;
  content: string;
  language: string | null;
}

const EXTENSIONS: Record<string, string> = {
  python: "py",
  py: "py",
  typescript: "ts",
  ts: "ts",
  javascript: "js",
  js: "js",
  shell: "sh",
  bash: "sh",
  sh: "sh",
  go: "go",
  rust: "rs",
  java: "java",
  ruby: "rb",
  json: "json",
  html: "html",
  css: "css",
  sql: "sql",
  yaml: "yaml",
  markdown: "md",
  dockerfile: "Dockerfile",
};

const LANGUAGE_BY_EXTENSION: Record<string, string> = {
  py: "python",
  ts: "typescript",
  js: "javascript",
  mjs: "javascript",
  sh: "shell",
  go: "go",
  rs: "rust",
  java: "java",
  rb: "ruby",
  json: "json",
  html: "html",
  css: "css",
  sql: "sql",
  yaml: "yaml",
  yml: "yaml",
  md: "markdown",
};

/** The file extension for a language name, or `txt`. */
export function extensionFor(language: string): string {
  return EXTENSIONS[language.toLowerCase()] ?? "txt";
}

/** The language a path's extension implies, or null. */
export function languageOfPath(path: string): string | null {
  const dot = path.lastIndexOf(".");
  if (dot < 0) return null;
  return LANGUAGE_BY_EXTENSION[path.slice(dot + 1).toLowerCase()] ?? null;
}

/**
 * Normalizes a generated file path: relative, forward slashes, no `.` or `..` segments, no empty
 * segments. Returns null for a path that would escape the output folder.
 */
export function safeRelativePath(raw: string): string | null {
  const trimmed = raw.trim().replace(/\\/g, "/").replace(/^\.\//, "");
  if (trimmed === "" || trimmed.startsWith("/") || trimmed.length > 256) return null;
  const segments = trimmed.split("/");
  if (segments.some((s) => s === "" || s === "." || s === ".." || hasControlCharacter(s))) return null;
  return segments.join("/");
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 0x20) return true;
  return false;
}

// ```lang path | ```lang title="path" | ```lang:path | ```lang filename=path
const FENCE = /^(`{3,}|~{3,})[ \t]*([^\n]*)$/;

function parseInfo(info: string): { language: string | null; path: string | null } {
  const trimmed = info.trim();
  if (trimmed === "") return { language: null, path: null };
  const colon = /^([\w+#.-]+):(\S+)$/.exec(trimmed);
  if (colon) return { language: colon[1] ?? null, path: colon[2] ?? null };
  const [first = "", ...rest] = trimmed.split(/\s+/);
  let path: string | null = null;
  for (const word of rest) {
    const attr = /^(?:title|file|filename|path)=["']?([^"']+)["']?$/.exec(word);
    if (attr) path = attr[1] ?? null;
    else if (path === null && /[./]/.test(word)) path = word;
  }
  if (path === null && /\.\w+$/.test(first) && rest.length === 0) {
    return { language: languageOfPath(first), path: first };
  }
  return { language: first || null, path };
}

/**
 * Cuts generated Markdown into files. Each fenced code block becomes a file; the path comes from
 * the fence's info string (`python main.py`, `ts title="src/app.ts"`, `js:index.js`), else from
 * the requirements' entry file for the first unnamed block, else `file-N.ext`. Text outside fences
 * is prose and kept out. Without any fence, the whole text is one file named `fallbackPath`.
 */
export function splitFiles(text: string, fallbackPath: string, fallbackLanguage: string): GeneratedFile[] {
  const lines = text.split("\n");
  const files: GeneratedFile[] = [];
  const used = new Set<string>();
  let open: { fence: string; language: string | null; path: string | null; body: string[] } | null = null;
  let fenced = false;
  let unnamed = 0;

  const claim = (wanted: string | null, language: string | null): string => {
    let path = wanted === null ? null : safeRelativePath(wanted);
    if (path === null) {
      unnamed += 1;
      path =
        unnamed === 1 && !used.has(fallbackPath)
          ? fallbackPath
          : `file-${unnamed}.${extensionFor(language ?? fallbackLanguage)}`;
    }
    let candidate = path;
    for (let n = 2; used.has(candidate); n++) candidate = path.replace(/(\.[^./]+)?$/, (ext) => `-${n}${ext}`);
    used.add(candidate);
    return candidate;
  };

  for (const line of lines) {
    if (open === null) {
      const match = FENCE.exec(line);
      if (match) {
        const info = parseInfo(match[2] ?? "");
        open = { fence: match[1] ?? "```", language: info.language, path: info.path, body: [] };
        fenced = true;
      }
      continue;
    }
    if (line.trim().startsWith(open.fence[0]!.repeat(open.fence.length)) && line.trim().replace(/[`~]/g, "") === "") {
      const path = claim(open.path, open.language);
      const body = open.body.join("\n");
      files.push({
        path,
        content: body.endsWith("\n") || body === "" ? body : `${body}\n`,
        language: normalizeLanguage(open.language) ?? languageOfPath(path),
      });
      open = null;
      continue;
    }
    open.body.push(line);
  }
  // An unterminated fence (a stream cut short) still yields what it holds, if anything.
  const rest = open?.body.join("\n") ?? "";
  if (open !== null && rest.trim() !== "") {
    const path = claim(open.path, open.language);
    files.push({
      path,
      content: rest.endsWith("\n") ? rest : `${rest}\n`,
      language: normalizeLanguage(open.language) ?? languageOfPath(path),
    });
  }
  // Text with a fence is Markdown, so its prose is never code, even when no block holds anything.
  if (!fenced && text.trim() !== "") {
    files.push({ path: fallbackPath, content: text.endsWith("\n") ? text : `${text}\n`, language: fallbackLanguage });
  }
  return files;
}

function normalizeLanguage(language: string | null): string | null {
  if (language === null) return null;
  const lower = language.toLowerCase();
  const ext = EXTENSIONS[lower];
  return ext ? (LANGUAGE_BY_EXTENSION[ext] ?? lower) : lower;
}
