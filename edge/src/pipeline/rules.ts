import type { GenerateRequest, Requirements } from "../../../shared/src/index.ts";
import { extensionFor } from "./split-files.ts";

const LANGUAGES: Array<[RegExp, string]> = [
  [/\btype\s?script\b|\bts\b|\bdeno\b/i, "typescript"],
  [/\bjavascript\b|\bnode(\.js|js)\b|\bjs\b/i, "javascript"],
  [/\bpython\b|\bdjango\b|\bflask\b|\bfastapi\b/i, "python"],
  [/\bgolang\b|\bin go\b/i, "go"],
  [/\brust\b/i, "rust"],
  [/\bbash\b|\bshell\b|\bsh script\b/i, "shell"],
  [/\bjava\b/i, "java"],
  [/\bruby\b|\brails\b/i, "ruby"],
  // Last: a bare "node" is as often a tree's node as Node.js, so any named language wins over it.
  [/\bnode\b/i, "javascript"],
];

const FRAMEWORKS: Array<[RegExp, string]> = [
  [/\bexpress\b/i, "express"],
  [/\bfastapi\b/i, "fastapi"],
  [/\bflask\b/i, "flask"],
  [/\bdjango\b/i, "django"],
  [/\bhono\b/i, "hono"],
  [/\breact\b/i, "react"],
];

const ENTRY: Record<string, string> = {
  typescript: "main.ts",
  javascript: "main.js",
  python: "main.py",
  go: "main.go",
};

/**
 * Deterministic requirements from a prompt and its metadata: metadata wins, then keywords in the
 * prompt, then Python. Used when no host-agent answers `llm.parse`, and as its fallback.
 */
export function requirementsByRules(prompt: string, metadata: Record<string, unknown>): Requirements {
  const fromMeta = (key: string): string | null => {
    const value = metadata[key];
    return typeof value === "string" && value.trim() !== "" ? value.trim().toLowerCase() : null;
  };
  const language = fromMeta("language") ?? LANGUAGES.find(([re]) => re.test(prompt))?.[1] ?? "python";
  const framework = fromMeta("framework") ?? FRAMEWORKS.find(([re]) => re.test(prompt))?.[1] ?? null;
  // The cut counts UTF-16 units; one through a surrogate pair would leave half a character.
  const summary = prompt
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 200)
    .replace(/[\uD800-\uDBFF]$/, "");
  return {
    language,
    framework,
    entry_file: ENTRY[language] ?? `main.${extensionFor(language)}`,
    summary,
    source: "rules",
  };
}

/** A pipeline's requirements: what PARSING settled on, or the rules' answer before it has. */
export function requirementsOf(pipeline: {
  requirements: Requirements | null;
  request: GenerateRequest;
}): Requirements {
  return pipeline.requirements ?? requirementsByRules(pipeline.request.prompt, pipeline.request.metadata ?? {});
}
