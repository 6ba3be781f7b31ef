"""JavaScript and TypeScript templates: a REST API (node:http or express) and a CLI."""

from __future__ import annotations

import json
import posixpath

from .common import INTRO, Program, SourceFile, fill, language_label, module_stem, node_entry, sibling
from .node_project import project_files, run_directly, test_command
from .node_rest_sources import ROUTES_DOC, rest_sources
from .resources import example_body, example_fields, other_fields, required_fields

_CLI_JS = """// Count the lines, words and characters of files or of standard input (a small `wc`).
// Usage: __RUN__ [--lines] [--words] [--chars] [FILE ...]
// Without options it prints all three counts; with several files, a total as well.
import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

const FIELDS = ["lines", "words", "chars"];
const USAGE = "usage: __RUN__ [--lines] [--words] [--chars] [FILE ...]";

/** Where the tool reads and writes: the terminal by default, something else in tests. */
const TERMINAL = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  stdin: () => readFileSync(0, "utf8"),
};

export function count(text) {
  return {
    lines: (text.match(/\\n/g) ?? []).length,
    words: text.split(/\\s+/).filter(Boolean).length,
    chars: [...text].length,
  };
}

function show(io, counts, fields, name) {
  const line = fields.map((field) => `${field}=${counts[field]}`).join(" ");
  io.out(name === undefined ? line : `${line} ${name}`);
}

/** Runs the tool with these arguments; returns the exit status. */
export function run(argv, io = TERMINAL) {
  const selected = new Set();
  const files = [];
  for (const arg of argv) {
    if (arg === "-h" || arg === "--help") {
      io.out(USAGE);
      return 0;
    }
    if (arg.startsWith("--")) {
      const field = arg.slice(2);
      if (!FIELDS.includes(field)) {
        io.err(`unknown option ${arg}\\n${USAGE}`);
        return 2;
      }
      selected.add(field);
    } else {
      files.push(arg);
    }
  }
  const fields = selected.size > 0 ? FIELDS.filter((field) => selected.has(field)) : FIELDS;

  if (files.length === 0) {
    show(io, count(io.stdin()), fields);
    return 0;
  }
  const total = { lines: 0, words: 0, chars: 0 };
  let status = 0;
  for (const file of files) {
    let text;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      io.err(`${file}: ${error.message}`);
      status = 1;
      continue;
    }
    const counts = count(text);
    show(io, counts, fields, file);
    for (const field of FIELDS) total[field] += counts[field];
  }
  if (files.length > 1) show(io, total, fields, "total");
  return status;
}
__RUN_DIRECTLY__
if (runDirectly()) process.exitCode = run(process.argv.slice(2));
"""

_CLI_TS = """// Count the lines, words and characters of files or of standard input (a small `wc`).
// Usage: __RUN__ [--lines] [--words] [--chars] [FILE ...]
// Without options it prints all three counts; with several files, a total as well.
import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

const FIELDS = ["lines", "words", "chars"] as const;
type Field = (typeof FIELDS)[number];
export type Counts = Record<Field, number>;
const USAGE = "usage: __RUN__ [--lines] [--words] [--chars] [FILE ...]";

/** Where the tool reads and writes: the terminal by default, something else in tests. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  stdin(): string;
}

const TERMINAL: Io = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  stdin: () => readFileSync(0, "utf8"),
};

function isField(name: string): name is Field {
  return (FIELDS as readonly string[]).includes(name);
}

export function count(text: string): Counts {
  return {
    lines: (text.match(/\\n/g) ?? []).length,
    words: text.split(/\\s+/).filter(Boolean).length,
    chars: [...text].length,
  };
}

function show(io: Io, counts: Counts, fields: readonly Field[], name?: string): void {
  const line = fields.map((field) => `${field}=${counts[field]}`).join(" ");
  io.out(name === undefined ? line : `${line} ${name}`);
}

/** Runs the tool with these arguments; returns the exit status. */
export function run(argv: readonly string[], io: Io = TERMINAL): number {
  const selected = new Set<Field>();
  const files: string[] = [];
  for (const arg of argv) {
    if (arg === "-h" || arg === "--help") {
      io.out(USAGE);
      return 0;
    }
    if (arg.startsWith("--")) {
      const field = arg.slice(2);
      if (!isField(field)) {
        io.err(`unknown option ${arg}\\n${USAGE}`);
        return 2;
      }
      selected.add(field);
    } else {
      files.push(arg);
    }
  }
  const fields = selected.size > 0 ? FIELDS.filter((field) => selected.has(field)) : FIELDS;

  if (files.length === 0) {
    show(io, count(io.stdin()), fields);
    return 0;
  }
  const total: Counts = { lines: 0, words: 0, chars: 0 };
  let status = 0;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      io.err(`${file}: ${error instanceof Error ? error.message : String(error)}`);
      status = 1;
      continue;
    }
    const counts = count(text);
    show(io, counts, fields, file);
    for (const field of FIELDS) total[field] += counts[field];
  }
  if (files.length > 1) show(io, total, fields, "total");
  return status;
}
__RUN_DIRECTLY__
if (runDirectly()) process.exitCode = run(process.argv.slice(2));
"""

# JavaScript and TypeScript share the tests; __TYPES__ holds TypeScript's annotations.
_CLI_TEST = """// Tests of __FILE__: run them with `node --test`.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { count, run } from "./__FILE__";

const program = fileURLToPath(new URL("./__FILE__", import.meta.url));

/** Runs the tool in this process; returns its status and the lines it printed. */
function runWith(argv__STRINGS__, stdin = "")__RESULT__ {
  const out__STRINGS__ = [];
  const err__STRINGS__ = [];
  const status = run(argv, { out: (line) => out.push(line), err: (line) => err.push(line), stdin: () => stdin });
  return { status, out, err };
}

/** A temporary folder holding these files, removed after the test. */
function folderWith(t__CONTEXT__, files__FILES__)__STRING__ {
  const dir = mkdtempSync(join(tmpdir(), "wc-test-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

test("count() counts lines, words and characters", () => {
  assert.deepEqual(count("one two\\nthree\\n"), { lines: 2, words: 3, chars: 14 });
  assert.deepEqual(count(""), { lines: 0, words: 0, chars: 0 });
});

test("standard input when no file is given", () => {
  assert.deepEqual(runWith([], "hello world\\n"), { status: 0, out: ["lines=1 words=2 chars=12"], err: [] });
});

test("several files: a line each, then a total", (t) => {
  const dir = folderWith(t, { "a.txt": "one two\\nthree\\n", "b.txt": "four" });
  const a = join(dir, "a.txt");
  const b = join(dir, "b.txt");
  assert.deepEqual(runWith(["--words", a, b]), {
    status: 0,
    out: [`words=3 ${a}`, `words=1 ${b}`, "words=4 total"],
    err: [],
  });
});

test("a missing file: status 1 and its name on stderr", (t) => {
  const missing = join(folderWith(t, {}), "missing.txt");
  const result = runWith([missing]);
  assert.equal(result.status, 1);
  assert.match(result.err.join("\\n"), /missing\\.txt/);
});

test("--help prints the usage; an unknown option is status 2", () => {
  assert.equal(runWith(["--help"]).status, 0);
  assert.equal(runWith(["--bytes"]).status, 2);
});

test("running the program reads standard input", () => {
  const done = spawnSync(process.execPath, [program], { input: "hello world\\n", encoding: "utf8" });
  assert.equal(done.status, 0, done.stderr);
  assert.equal(done.stdout, "lines=1 words=2 chars=12\\n");
});
"""

_CLI_TEST_TYPES = {
    "javascript": {"STRINGS": "", "RESULT": "", "CONTEXT": "", "FILES": "", "STRING": ""},
    "typescript": {
        "STRINGS": ": string[]",
        "RESULT": ": { status: number; out: string[]; err: string[] }",
        "CONTEXT": ": TestContext",
        "FILES": ": Record<string, string>",
        "STRING": ": string",
    },
}

_EXTENSIONS = {"javascript": "js", "typescript": "ts"}


def node_rest_api(language: str, resource: str, framework: str | None, requested_entry: str) -> Program:
    ext = _EXTENSIONS[language]
    path = node_entry(requested_entry, language)
    express = framework == "express"
    # The app lives in a module of its own that tests import; the entry file only starts it.
    app_name = "api" if module_stem(path) == "app" else "app"
    app_path = sibling(path, f"{app_name}.{ext}")
    sources = rest_sources(language, express)
    fields = required_fields(resource)
    values = {
        "ROUTES": ROUTES_DOC,
        "FIELDS_LIST": json.dumps(fields),
        "FIELDS_DOC": ", ".join(fields),
        "RESOURCE": resource,
        "RUN": f"node {path}",
        "APP": f"{app_name}.{ext}",
        "MAIN": posixpath.basename(path),
        "VALID": json.dumps(example_fields(resource)),
        "OTHER": json.dumps(other_fields(resource)),
        "RUN_DIRECTLY": run_directly(language, posixpath.basename(path)),
    }
    email_test = sources.email_test if "email" in fields else ""
    base = "express" if express else "node:http, without dependencies"
    note = ""
    if framework not in (None, "", "none", "express", "node", "http"):
        note = f" The offline provider has no {framework} template, so it uses node:http instead."
    install = "npm install, then " if express or language == "typescript" else ""
    return Program(
        intro=INTRO + f"an in-memory REST API for {resource} in {language_label(language)} on {base}, with its tests.{note}",
        files=[
            SourceFile(app_path, language, fill(sources.app, **values)),
            SourceFile(path, language, fill(sources.main, **values)),
            SourceFile(sibling(path, f"{app_name}.test.{ext}"), language, fill(sources.test + email_test, **values)),
            *project_files(f"{resource}-api", path, language, express=express),
        ],
        outro=(
            f"Run it with {install}`PORT=3000 node {path}`, then for example "
            f"`curl -X POST localhost:3000/{resource} -H 'Content-Type: application/json' "
            f"-d '{example_body(resource)}'`; test it with `{test_command(language)}`."
        ),
    )


def node_cli(language: str, requested_entry: str) -> Program:
    ext = _EXTENSIONS[language]
    path = node_entry(requested_entry, language)
    name = posixpath.basename(path)
    template = _CLI_TS if language == "typescript" else _CLI_JS
    source = template.replace("__RUN__", f"node {path}").replace("__RUN_DIRECTLY__", run_directly(language, name))
    test = fill(_CLI_TEST, FILE=name, **_CLI_TEST_TYPES[language])
    if language == "typescript":
        test = test.replace('import { test } from "node:test";', 'import { test, type TestContext } from "node:test";')
    return Program(
        intro=INTRO + f"a {language_label(language)} command-line tool that counts lines, words and characters, with its tests.",
        files=[
            SourceFile(path, language, source),
            SourceFile(sibling(path, f"{module_stem(path)}.test.{ext}"), language, test),
            *project_files("wc", path, language),
        ],
        outro=(
            f"Run it with `node {path} FILE...` or `echo hello world | node {path}`; "
            f"test it with `{test_command(language)}`."
        ),
    )
