"""Hello world in every language the offline provider knows, and the fallback starting point."""

from __future__ import annotations

import posixpath

from .common import (
    INTRO,
    Program,
    SourceFile,
    comment_text,
    entry_path,
    fence_language,
    language_label,
    module_stem,
    node_entry,
    python_entry,
    sibling,
)
from .node_project import RUN_DIRECTLY_IMPORTS, project_files, run_directly

# language -> (default path, source, run command)
_HELLO: dict[str, tuple[str, str, str]] = {
    "python": (
        "main.py",
        'def main() -> None:\n    print("Hello, World!")\n\n\nif __name__ == "__main__":\n    main()\n',
        "python3 {path}",
    ),
    "javascript": ("main.js", 'console.log("Hello, World!");\n', "node {path}"),
    "typescript": (
        "main.ts",
        'const greeting: string = "Hello, World!";\nconsole.log(greeting);\n',
        "node {path}",
    ),
    "shell": ("main.sh", '#!/usr/bin/env bash\nset -euo pipefail\n\necho "Hello, World!"\n', "bash {path}"),
    "go": (
        "main.go",
        'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("Hello, World!")\n}\n',
        "go run {path}",
    ),
    "rust": ("main.rs", 'fn main() {\n    println!("Hello, World!");\n}\n', "rustc {path} -o main && ./main"),
    # A public Java class must live in a file of its own name, so Java ignores the entry file.
    "java": (
        "Main.java",
        'public class Main {\n    public static void main(String[] args) {\n'
        '        System.out.println("Hello, World!");\n    }\n}\n',
        "javac Main.java && java Main",
    ),
    "ruby": ("main.rb", 'puts "Hello, World!"\n', "ruby {path}"),
}
HELLO_LANGUAGES = tuple(_HELLO)
_COMMENT = {"python": "#", "shell": "#", "ruby": "#"}
TESTED_LANGUAGES = ("python", "javascript", "typescript")

_PYTHON_TEST = '''"""Tests of __FILE__: run them with `python3 -m pytest`."""

import subprocess
import sys
from pathlib import Path

from __MODULE__ import main

PROGRAM = Path(__file__).with_name("__FILE__")


def test_main_prints_hello_world(capsys):
    main()
    assert capsys.readouterr().out == "Hello, World!\\n"


def test_running_the_program_prints_hello_world():
    done = subprocess.run([sys.executable, str(PROGRAM)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Hello, World!\\n"
'''

_NODE_SOURCE = {
    "javascript": '''__IMPORTS__
export function greeting() {
  return "Hello, World!";
}
__RUN_DIRECTLY__
if (runDirectly()) console.log(greeting());
''',
    "typescript": '''__IMPORTS__
export function greeting(): string {
  return "Hello, World!";
}
__RUN_DIRECTLY__
if (runDirectly()) console.log(greeting());
''',
}

# The same test in JavaScript and TypeScript: only the imported file's extension differs.
_NODE_TEST = '''// Tests of __FILE__: run them with `node --test`.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { greeting } from "./__FILE__";

const program = fileURLToPath(new URL("./__FILE__", import.meta.url));

test("greeting() is Hello, World!", () => {
  assert.equal(greeting(), "Hello, World!");
});

test("running the program prints Hello, World!", () => {
  const done = spawnSync(process.execPath, [program], { encoding: "utf8" });
  assert.equal(done.status, 0, done.stderr);
  assert.equal(done.stdout, "Hello, World!\\n");
});
'''


def _path(language: str, requested: str) -> str:
    default = _HELLO[language][0]
    if language == "java":
        return default
    if language == "python":
        return python_entry(requested)
    if language in ("javascript", "typescript"):
        return node_entry(requested, language)
    return entry_path(requested, language, default)


def _run(language: str, path: str) -> str:
    run = f"Run it with `{_HELLO[language][2].format(path=path)}`"
    if language == "python":
        return run + "; test it with `python3 -m pytest`."
    if language == "javascript":
        return run + "; test it with `node --test`."
    if language == "typescript":
        return run + "; test it with `node --test` (and type-check it with `npm install && npx tsc`)."
    return run + "."


def _source(language: str, path: str) -> str:
    if language not in ("javascript", "typescript"):
        return _HELLO[language][1]
    source = _NODE_SOURCE[language].replace("__IMPORTS__", RUN_DIRECTLY_IMPORTS)
    return source.replace("__RUN_DIRECTLY__", run_directly(language, path))


def _files(language: str, path: str, source: str) -> list[SourceFile]:
    """The program, its tests, and for Node its package.json (and tsconfig.json)."""
    files = [SourceFile(path, fence_language(language), source)]
    name = posixpath.basename(path)
    if language == "python":
        test = _PYTHON_TEST.replace("__MODULE__", module_stem(path)).replace("__FILE__", name)
        files.append(SourceFile(sibling(path, f"test_{module_stem(path)}.py"), "python", test))
    elif language in ("javascript", "typescript"):
        ext = "ts" if language == "typescript" else "js"
        test = _NODE_TEST.replace("__FILE__", name)
        files.append(SourceFile(sibling(path, f"{module_stem(path)}.test.{ext}"), language, test))
        files.extend(project_files("hello", path, language))
    return files


def hello_program(language: str, requested_entry: str) -> Program:
    path = _path(language, requested_entry)
    tested = " with its tests" if language in TESTED_LANGUAGES else ""
    return Program(
        intro=INTRO + f'a {language_label(language)} program that prints "Hello, World!"{tested}.',
        files=_files(language, path, _source(language, path)),
        outro=_run(language, path),
    )


def starter_program(language: str, requested_entry: str, prompt: str, note: str) -> Program:
    path = _path(language, requested_entry)
    source = _source(language, path)
    marker = _COMMENT.get(language, "//")
    header = (
        f"{marker} Task: {comment_text(prompt)}\n"
        f"{marker} Generated offline from a template: replace this with the real program, or set\n"
        f"{marker} ATOMIC_LLM_BASE_URL so that a language model writes it.\n"
    )
    if source.startswith("#!"):
        shebang, rest = source.split("\n", 1)
        source = f"{shebang}\n{header}{rest}"
    else:
        source = header + "\n" + source
    return Program(
        intro=INTRO + note,
        files=_files(language, path, source),
        outro=_run(language, path),
    )


def unsupported_program(language: str) -> Program:
    known = ", ".join(sorted(HELLO_LANGUAGES))
    name = comment_text(language, 64)
    readme = (
        f"# No offline template for {name}\n\n"
        "The offline provider of the reference agent has no language model; it writes programs from\n"
        f"built-in templates, and it has none for {name}. It knows: {known}.\n\n"
        "Set ATOMIC_LLM_BASE_URL (and ATOMIC_LLM_MODEL) to an OpenAI-compatible server to generate\n"
        "code in any language.\n"
    )
    return Program(
        intro=INTRO + f"there is no template for {name}, so this is a note instead of a program.",
        files=[SourceFile("README.md", "markdown", readme)],
    )
