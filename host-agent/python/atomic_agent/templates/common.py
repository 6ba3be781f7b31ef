"""Shared pieces of the offline templates."""

from __future__ import annotations

import keyword
import posixpath
import re
import sys
from dataclasses import dataclass, field

from ..rules import EXTENSIONS

INTRO = "Offline provider (built-in templates, no language model): "
LABELS = {
    "python": "Python",
    "javascript": "JavaScript",
    "typescript": "TypeScript",
    "shell": "Bash",
    "go": "Go",
    "rust": "Rust",
    "java": "Java",
    "ruby": "Ruby",
}
FENCE_LANGUAGE = {"shell": "bash"}
_SAFE_PATH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*")


@dataclass(frozen=True)
class SourceFile:
    path: str
    language: str  # the fence's language tag
    content: str


@dataclass(frozen=True)
class Program:
    intro: str
    files: list[SourceFile] = field(default_factory=list)
    outro: str = ""


def language_label(language: str) -> str:
    return LABELS.get(language, language)


def fence_language(language: str) -> str:
    return FENCE_LANGUAGE.get(language, language)


def entry_path(requested: str, language: str, default: str) -> str:
    """The requirements' entry file when it is a plain relative path with the language's
    extension, else `default` (a template's files must stay where its run command expects them)."""
    ext = EXTENSIONS.get(language)
    candidate = requested.strip()
    if ext and _SAFE_PATH.fullmatch(candidate) and ".." not in candidate and candidate.endswith("." + ext):
        return candidate
    return default


# What `node --test` and pytest take for a test file: a program's own files must not look like one.
_NODE_TEST_NAME = re.compile(r"(^test|[.\-_]test$|^test-)", re.I)


def python_entry(requested: str) -> str:
    """The entry file of a Python program its tests can import: an identifier that is no test
    file's name and shadows no module of the standard library (`main.py` otherwise)."""
    path = entry_path(requested, "python", "main.py")
    stem = posixpath.basename(path)[:-3]
    if (
        not stem.isidentifier()
        or keyword.iskeyword(stem)
        or stem in sys.stdlib_module_names
        or stem in ("conftest", "pytest")
        or stem.startswith("test")
        or stem.endswith("_test")
    ):
        return "main.py"
    return path


def node_entry(requested: str, language: str) -> str:
    """The entry file of a JavaScript or TypeScript program, never one `node --test` would run."""
    ext = "ts" if language == "typescript" else "js"
    default = f"main.{ext}"
    path = entry_path(requested, language, default)
    stem = posixpath.basename(path)[: -len(ext) - 1]
    if _NODE_TEST_NAME.search(stem) or {"test", "node_modules"} & set(path.split("/")[:-1]):
        return default
    return path


def module_stem(path: str) -> str:
    """`src/main.py` -> `main`: the name a test next to the file imports it by."""
    return posixpath.splitext(posixpath.basename(path))[0]


def sibling(path: str, name: str) -> str:
    """A file named `name` in the folder of `path`."""
    folder = posixpath.dirname(path)
    return f"{folder}/{name}" if folder else name


def fill(template: str, **values: str) -> str:
    """Replaces each __KEY__ placeholder; templates are code, so str.format's braces would clash."""
    for key, value in values.items():
        template = template.replace(f"__{key}__", value)
    return template


def comment_text(text: str, limit: int = 120) -> str:
    """Text safe to put in a one-line comment: one line, printable, bounded, no backticks."""
    flat = " ".join(text.split())
    cleaned = "".join(ch for ch in flat if ch.isprintable()).replace("`", "'").replace("*/", "* /")
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3].rstrip() + "..."


def fence_for(body: str) -> str:
    """A fence longer than any backtick run inside `body`, so its content cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    return "`" * max(3, longest + 1)


def fenced(language: str, path: str, content: str) -> str:
    """One file in the fenced-file format: ```<language> <path>, the content, the closing fence."""
    body = content if content.endswith("\n") or content == "" else content + "\n"
    fence = fence_for(body)
    return f"{fence}{language} {path}\n{body}{fence}"


def render(program: Program) -> str:
    parts = [program.intro.strip()]
    for source in program.files:
        parts.append(fenced(source.language, source.path, source.content))
    if program.outro:
        parts.append(program.outro.strip())
    return "\n\n".join(parts) + "\n"
