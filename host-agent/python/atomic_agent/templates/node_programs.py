"""JavaScript and TypeScript templates: a REST API (node:http or express) and a CLI."""

from __future__ import annotations

import json

from .common import INTRO, Program, SourceFile, entry_path, language_label
from .node_rest_express import EXPRESS_JS, EXPRESS_TS
from .node_rest_http import HTTP_JS, HTTP_TS, ROUTES_DOC
from .resources import example_body, required_fields

_CLI_JS = """// Count the lines, words and characters of files or of standard input (a small `wc`).
// Usage: __RUN__ [--lines] [--words] [--chars] [FILE ...]
// Without options it prints all three counts; with several files, a total as well.
import { readFileSync } from "node:fs";

const FIELDS = ["lines", "words", "chars"];
const USAGE = "usage: __RUN__ [--lines] [--words] [--chars] [FILE ...]";

function count(text) {
  return {
    lines: (text.match(/\\n/g) ?? []).length,
    words: text.split(/\\s+/).filter(Boolean).length,
    chars: [...text].length,
  };
}

function show(counts, fields, name) {
  const line = fields.map((field) => `${field}=${counts[field]}`).join(" ");
  console.log(name === undefined ? line : `${line} ${name}`);
}

function main(argv) {
  const selected = new Set();
  const files = [];
  for (const arg of argv) {
    if (arg === "-h" || arg === "--help") {
      console.log(USAGE);
      return 0;
    }
    if (arg.startsWith("--")) {
      const field = arg.slice(2);
      if (!FIELDS.includes(field)) {
        console.error(`unknown option ${arg}\\n${USAGE}`);
        return 2;
      }
      selected.add(field);
    } else {
      files.push(arg);
    }
  }
  const fields = selected.size > 0 ? FIELDS.filter((field) => selected.has(field)) : FIELDS;

  if (files.length === 0) {
    show(count(readFileSync(0, "utf8")), fields);
    return 0;
  }
  const total = { lines: 0, words: 0, chars: 0 };
  let status = 0;
  for (const file of files) {
    let text;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      console.error(`${file}: ${error.message}`);
      status = 1;
      continue;
    }
    const counts = count(text);
    show(counts, fields, file);
    for (const field of FIELDS) total[field] += counts[field];
  }
  if (files.length > 1) show(total, fields, "total");
  return status;
}

process.exitCode = main(process.argv.slice(2));
"""

_CLI_TS = """// Count the lines, words and characters of files or of standard input (a small `wc`).
// Usage: __RUN__ [--lines] [--words] [--chars] [FILE ...]
// Without options it prints all three counts; with several files, a total as well.
import { readFileSync } from "node:fs";

const FIELDS = ["lines", "words", "chars"] as const;
type Field = (typeof FIELDS)[number];
type Counts = Record<Field, number>;
const USAGE = "usage: __RUN__ [--lines] [--words] [--chars] [FILE ...]";

function isField(name: string): name is Field {
  return (FIELDS as readonly string[]).includes(name);
}

function count(text: string): Counts {
  return {
    lines: (text.match(/\\n/g) ?? []).length,
    words: text.split(/\\s+/).filter(Boolean).length,
    chars: [...text].length,
  };
}

function show(counts: Counts, fields: readonly Field[], name?: string): void {
  const line = fields.map((field) => `${field}=${counts[field]}`).join(" ");
  console.log(name === undefined ? line : `${line} ${name}`);
}

function main(argv: string[]): number {
  const selected = new Set<Field>();
  const files: string[] = [];
  for (const arg of argv) {
    if (arg === "-h" || arg === "--help") {
      console.log(USAGE);
      return 0;
    }
    if (arg.startsWith("--")) {
      const field = arg.slice(2);
      if (!isField(field)) {
        console.error(`unknown option ${arg}\\n${USAGE}`);
        return 2;
      }
      selected.add(field);
    } else {
      files.push(arg);
    }
  }
  const fields = selected.size > 0 ? FIELDS.filter((field) => selected.has(field)) : FIELDS;

  if (files.length === 0) {
    show(count(readFileSync(0, "utf8")), fields);
    return 0;
  }
  const total: Counts = { lines: 0, words: 0, chars: 0 };
  let status = 0;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      console.error(`${file}: ${error instanceof Error ? error.message : String(error)}`);
      status = 1;
      continue;
    }
    const counts = count(text);
    show(counts, fields, file);
    for (const field of FIELDS) total[field] += counts[field];
  }
  if (files.length > 1) show(total, fields, "total");
  return status;
}

process.exitCode = main(process.argv.slice(2));
"""

_EXTENSIONS = {"javascript": "js", "typescript": "ts"}


def _package_json(name: str, path: str, express: bool, typescript: bool) -> str:
    package: dict[str, object] = {
        "name": name,
        "version": "1.0.0",
        "private": True,
        "type": "module",
        "scripts": {"start": f"node {path}"},
        # Node runs .ts files directly (type stripping) from 22.18 on.
        "engines": {"node": ">=22.18" if typescript else ">=18"},
    }
    if express:
        package["dependencies"] = {"express": "^5.1.0"}
    if typescript:
        dev = {"@types/node": "^22.0.0", "typescript": "^5.8.0"}
        if express:
            dev["@types/express"] = "^5.0.0"
        package["devDependencies"] = dev
    return json.dumps(package, indent=2) + "\n"


def node_rest_api(language: str, resource: str, framework: str | None, requested_entry: str) -> Program:
    ext = _EXTENSIONS[language]
    typescript = language == "typescript"
    path = entry_path(requested_entry, language, f"main.{ext}")
    express = framework == "express"
    if express:
        template = EXPRESS_TS if typescript else EXPRESS_JS
    else:
        template = HTTP_TS if typescript else HTTP_JS
    fields = required_fields(resource)
    source = template.replace("__ROUTES__", ROUTES_DOC).replace("__FIELDS_LIST__", json.dumps(fields))
    source = source.replace("__FIELDS_DOC__", ", ".join(fields)).replace("__RESOURCE__", resource)
    source = source.replace("__RUN__", f"node {path}")
    base = "express" if express else "node:http, without dependencies"
    note = ""
    if framework not in (None, "", "none", "express", "node", "http"):
        note = f" The offline provider has no {framework} template, so it uses node:http instead."
    install = "npm install, then " if express else ""
    return Program(
        intro=INTRO + f"an in-memory REST API for {resource} in {language_label(language)} on {base}.{note}",
        files=[
            SourceFile(path, language, source),
            SourceFile("package.json", "json", _package_json(f"{resource}-api", path, express, typescript)),
        ],
        outro=(
            f"Run it with {install}`PORT=3000 node {path}`, then for example "
            f"`curl -X POST localhost:3000/{resource} -H 'Content-Type: application/json' "
            f"-d '{example_body(resource)}'`."
        ),
    )


def node_cli(language: str, requested_entry: str) -> Program:
    ext = _EXTENSIONS[language]
    path = entry_path(requested_entry, language, f"main.{ext}")
    template = _CLI_TS if language == "typescript" else _CLI_JS
    return Program(
        intro=INTRO + f"a {language_label(language)} command-line tool that counts lines, words and characters.",
        files=[SourceFile(path, language, template.replace("__RUN__", f"node {path}"))],
        outro=f"Run it with `node {path} FILE...` or `echo hello world | node {path}`.",
    )
