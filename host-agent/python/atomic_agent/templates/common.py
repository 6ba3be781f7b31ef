"""Shared pieces of the offline templates."""

from __future__ import annotations

import re
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


def render(program: Program) -> str:
    parts = [program.intro.strip()]
    for source in program.files:
        body = source.content if source.content.endswith("\n") else source.content + "\n"
        # A fence longer than any backtick run inside the file cannot be closed by its content.
        longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
        fence = "`" * max(3, longest + 1)
        parts.append(f"{fence}{source.language} {source.path}\n{body}{fence}")
    if program.outro:
        parts.append(program.outro.strip())
    return "\n\n".join(parts) + "\n"
