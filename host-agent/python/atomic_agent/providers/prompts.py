"""What the OpenAI-compatible provider tells the model: the generation and repair prompts, and the
character budgets that bound them (docs/generation-format.md)."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

from ..protocol import FileEntry, GenerateTask, RepairTask
from ..rules import EXTENSIONS, normalize_language
from ..templates.common import fence_for, fenced

# The budgets, in characters. Prompts stay far below a small model's context (about 100,000
# characters, some 25,000 tokens, for the largest repair message) whatever the request holds.
REPAIR_REQUEST_MAX_CHARS = 16_000  # the user's request, as the repair shows it
REPAIR_FAILURES_MAX_CHARS = 12_000  # LIMITS.repairFailuresMaxChars: the edge trims to it already
REPAIR_FILES_MAX_CHARS = 64_000  # the fenced files a repair shows, fences and markers included
NOT_SHOWN_MAX_CHARS = 4_000  # the list of the files left out of that budget
REPAIR_PROMPT_MAX_CHARS = 100_000  # the whole user message of a repair, all of the above together
PINNED_TESTS_MAX_CHARS = 131_072  # LIMITS.pinnedTestsMaxBytes: a generation shows every pinned test

CONVENTIONS = """Tests, by language (they run in a sandbox without network access, so nothing can be
installed: use only the language's standard library; JavaScript and TypeScript may also use
express, supertest and typescript with @types/node, @types/express and @types/supertest):
- Python: pytest tests in files named test_*.py next to the code they test, importing it as a
  module (`from main import add`), with plain `assert`s. Importing a module starts nothing: the
  program's own start is under `if __name__ == "__main__":`. Run with `python3 -m pytest`.
- JavaScript: ES modules, with a package.json holding "type": "module". Tests in files named
  *.test.js using node:test and node:assert/strict, importing the code by relative paths with their
  extension (`import { add } from "./math.js"`). Run with `node --test`.
- TypeScript: run by Node itself (type stripping) and checked with `tsc --noEmit` (strict, module
  nodenext), with a package.json holding "type": "module". Tests in files named *.test.ts using
  node:test and node:assert/strict. Relative imports carry the .ts extension
  (`import { add } from "./math.ts"`); types are imported with `import type`; no enum, namespace,
  parameter properties or other syntax that type stripping cannot erase.
- Servers: export the app (or a function that creates it) from a module of its own, and call
  `listen` only in the entry file, when it is run directly. Tests never use a fixed port or an
  outside host: supertest drives an express app in-process; other servers listen on port 0 of
  127.0.0.1 for the test.
- A JavaScript or TypeScript file that tests import starts nothing on import; one that is also a
  program runs only when node was started with it
  (`realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)`).
- A few focused, deterministic, fast tests of what the request asks for: no sleeping, no
  randomness without a seed."""

GENERATE_SYSTEM_PROMPT = (
    """You write complete, runnable programs and their tests.
Answer with one short sentence saying what you wrote, then every file as a fenced code block whose
info string is the language followed by the file's relative path, for example:

```python main.py
def add(a: int, b: int) -> int:
    return a + b
```

```python test_main.py
from main import add


def test_add():
    assert add(2, 3) == 5
```

Rules: every file is complete; put the entry point in the entry file you are given; use only
relative paths; write no code outside those blocks; keep the program small and correct; include
tests of your own unless fixed tests are given, and never repeat or change fixed tests.

"""
    + CONVENTIONS
)

REPAIR_SYSTEM_PROMPT = (
    """You fix programs whose type check or tests failed.
You get the request the program was written for, its files (each a fenced code block whose info
string is the language followed by the file's path), which of them are read-only, and what failed.
Answer with one short sentence saying what you changed, then every file you change or add as a
fenced code block whose info string is the language followed by the file's relative path, for
example:

```python main.py
<the whole file, as it must be now>
```

Rules:
- A file you write is complete, never a diff or an excerpt: it replaces the file of that path.
- Leave out the files you do not change: they stay as they are.
- Never write a read-only file: it is one of the request's own tests. Change the program so that
  it passes them.
- Fix the cause of the failures and keep what works; do not delete or weaken a test to make it
  pass unless the test itself is wrong.

"""
    + CONVENTIONS
)


def clip(text: str, limit: int) -> str:
    """`text`, or its start and a note of how much was left out, in at most `limit` characters."""
    if len(text) <= limit:
        return text
    note = f"\n[... {len(text) - limit:,} more characters left out]"
    return text[: max(0, limit - len(note))] + note


def fence_language_of(path: str, language: str) -> str:
    """The info string's language for a file: from its extension, else the program's language."""
    ext = posixpath.splitext(path)[1].lstrip(".").lower()
    by_ext = {value: key for key, value in EXTENSIONS.items()}
    by_ext.update({"mjs": "javascript", "cjs": "javascript", "mts": "typescript", "cts": "typescript"})
    by_ext.update({"json": "json", "md": "markdown", "toml": "toml", "yaml": "yaml", "yml": "yaml", "txt": "text"})
    return by_ext.get(ext, normalize_language(language) if ext == "" else "text")


def pinned_tests(metadata: dict[str, Any]) -> list[FileEntry]:
    """The request's pinned tests (`metadata.tests`: [{path, content}]), the well-formed ones."""
    tests = metadata.get("tests")
    if not isinstance(tests, list):
        return []
    return [
        FileEntry(t["path"], t["content"])
        for t in tests
        if isinstance(t, dict) and isinstance(t.get("path"), str) and isinstance(t.get("content"), str)
    ]


def generate_user_message(task: GenerateTask) -> str:
    req = task.requirements
    parts = [
        f"Language: {req.language}\nFramework: {req.framework or 'none'}\nEntry file: {req.entry_file}\n\n"
        f"Task: {task.prompt}"
    ]
    fixed = pinned_tests(task.metadata)
    if fixed:
        blocks_of = [(entry, fenced(fence_language_of(entry.path, req.language), entry.path, entry.content)) for entry in fixed]
        shown, left_out = _fit(blocks_of, PINNED_TESTS_MAX_CHARS)
        blocks = "\n\n".join(block for _, block in shown)
        parts.append(
            "Fixed tests: the program must pass these test files. They exist already: do not repeat them, "
            "change them or write other files at their paths "
            f"({', '.join(entry.path for entry in fixed)}).\n\n{blocks}"
        )
        if left_out:
            parts.append(_not_shown(left_out))
    command = task.metadata.get("test_command")
    if isinstance(command, str) and command.strip():
        parts.append(f"The tests are run with: {clip(command.strip(), 1024)}")
    return "\n\n".join(parts)


@dataclass(frozen=True)
class RepairPrompt:
    messages: list[dict[str, str]]
    shown: list[str]  # paths whose content the model sees
    left_out: list[str]  # paths over the files budget, named only


def repair_messages(task: RepairTask) -> RepairPrompt:
    """The system and user messages of a repair, within the budgets above."""
    pinned = set(task.pinned)
    ext = EXTENSIONS.get(normalize_language(task.language))

    def block(entry: FileEntry) -> str:
        text = fenced(fence_language_of(entry.path, task.language), entry.path, entry.content)
        if entry.path in pinned:
            return f"Read-only (one of the request's own tests; do not write it): {entry.path}\n{text}"
        return text

    def rank(item: tuple[int, FileEntry]) -> tuple[int, int]:
        index, entry = item
        if entry.path in task.failures or posixpath.basename(entry.path) in task.failures:
            group = 0  # named by the failures
        elif entry.path not in pinned and ext is not None and entry.path.endswith("." + ext):
            group = 1  # the program's code
        elif entry.path in pinned:
            group = 2
        else:
            group = 3  # package.json, configuration, documentation
        return group, index

    by_rank = sorted(enumerate(task.files), key=rank)
    shown, left_out = _fit([(entry, block(entry)) for _, entry in by_rank], REPAIR_FILES_MAX_CHARS)
    shown_paths = {entry.path for entry, _ in shown}
    blocks = "\n\n".join(block(entry) for entry in task.files if entry.path in shown_paths)

    header = f"Repair round {task.round}. Language: {task.language}."
    if task.requirements is not None:
        header += f" Framework: {task.requirements.framework or 'none'}. Entry file: {task.requirements.entry_file}."
    if task.test_command is not None:
        header += f"\nThe tests run with: {task.test_command}"
    parts = [
        header,
        f"The request:\n{clip(task.prompt.strip(), REPAIR_REQUEST_MAX_CHARS)}",
        f"The program's files:\n\n{blocks}",
    ]
    if left_out:
        parts.append(_not_shown(left_out))
    failures = clip(task.failures.strip(), REPAIR_FAILURES_MAX_CHARS) or "(no output)"
    fence = fence_for(failures)
    parts.append(f"What failed:\n{fence}text\n{failures}\n{fence}")
    closing = "Answer with the complete files you change or add, each fenced with its language and path."
    if pinned:
        closing += f" Never write the read-only files ({clip(', '.join(sorted(pinned)), 2000)})."
    parts.append(closing)
    user = "\n\n".join(parts)
    return RepairPrompt(
        messages=[{"role": "system", "content": REPAIR_SYSTEM_PROMPT}, {"role": "user", "content": user}],
        shown=[entry.path for entry in task.files if entry.path in shown_paths],
        left_out=[entry.path for entry in left_out],
    )


def _fit(items: list[tuple[FileEntry, str]], budget: int) -> tuple[list[tuple[FileEntry, str]], list[FileEntry]]:
    """Takes blocks in order while they fit the budget (a block that does not fit is skipped, a
    later smaller one may still fit): a file is shown whole or not at all, never cut."""
    shown: list[tuple[FileEntry, str]] = []
    left_out: list[FileEntry] = []
    used = 0
    for entry, text in items:
        if used + len(text) + 2 <= budget:
            shown.append((entry, text))
            used += len(text) + 2
        else:
            left_out.append(entry)
    return shown, left_out


def _not_shown(entries: list[FileEntry]) -> str:
    """The files over the budget, by path and size: the model may only rewrite them whole."""
    head = "Not shown, over this prompt's size budget (leave them out of your answer unless you rewrite them whole):"
    lines: list[str] = []
    used = len(head)
    for index, entry in enumerate(entries):
        line = f"- {clip(entry.path, 300)} ({len(entry.content):,} characters)"
        if used + len(line) + 40 > NOT_SHOWN_MAX_CHARS:
            lines.append(f"- and {len(entries) - index} more")
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join([head, *lines])
