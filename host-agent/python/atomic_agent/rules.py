"""Deterministic requirements from a prompt: metadata first, then keywords, then Python.

The same rules as the edge's `requirementsByRules` (edge/src/pipeline/rules.ts), so a pipeline
parses the same way whether or not an agent answers its `parse` request; the one difference is
that language aliases from metadata ("py", "ts", "node") are normalized to their full names.
"""

from __future__ import annotations

import re
from typing import Any

from .protocol import Requirements

LANGUAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\btype\s?script\b|\bts\b|\bdeno\b", re.I), "typescript"),
    (re.compile(r"\bjavascript\b|\bnode(\.js|js)?\b|\bjs\b", re.I), "javascript"),
    (re.compile(r"\bpython\b|\bdjango\b|\bflask\b|\bfastapi\b", re.I), "python"),
    (re.compile(r"\bgolang\b|\bin go\b", re.I), "go"),
    (re.compile(r"\brust\b", re.I), "rust"),
    (re.compile(r"\bbash\b|\bshell\b|\bsh script\b", re.I), "shell"),
    (re.compile(r"\bjava\b", re.I), "java"),
    (re.compile(r"\bruby\b|\brails\b", re.I), "ruby"),
]

FRAMEWORKS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bexpress\b", re.I), "express"),
    (re.compile(r"\bfastapi\b", re.I), "fastapi"),
    (re.compile(r"\bflask\b", re.I), "flask"),
    (re.compile(r"\bdjango\b", re.I), "django"),
    (re.compile(r"\bhono\b", re.I), "hono"),
    (re.compile(r"\breact\b", re.I), "react"),
]

EXTENSIONS = {
    "python": "py",
    "typescript": "ts",
    "javascript": "js",
    "shell": "sh",
    "go": "go",
    "rust": "rs",
    "java": "java",
    "ruby": "rb",
}
ENTRY = {"typescript": "main.ts", "javascript": "main.js", "python": "main.py", "go": "main.go"}
ALIASES = {
    "py": "python",
    "python3": "python",
    "ts": "typescript",
    "js": "javascript",
    "node": "javascript",
    "nodejs": "javascript",
    "bash": "shell",
    "sh": "shell",
    "golang": "go",
    "rs": "rust",
    "rb": "ruby",
}


def normalize_language(language: str) -> str:
    lower = language.strip().lower()
    return ALIASES.get(lower, lower)


def entry_file_for(language: str) -> str:
    return ENTRY.get(language) or f"main.{EXTENSIONS.get(language, 'txt')}"


def summarize(prompt: str) -> str:
    return " ".join(prompt.split())[:200]


def requirements_by_rules(prompt: str, metadata: dict[str, Any]) -> Requirements:
    def from_meta(key: str) -> str | None:
        value = metadata.get(key)
        return value.strip().lower() if isinstance(value, str) and value.strip() else None

    meta_language = from_meta("language")
    if meta_language:
        language = normalize_language(meta_language)
    else:
        language = next((name for rx, name in LANGUAGES if rx.search(prompt)), "python")
    framework = from_meta("framework") or next((name for rx, name in FRAMEWORKS if rx.search(prompt)), None)
    return Requirements(
        language=language,
        framework=framework,
        entry_file=entry_file_for(language),
        summary=summarize(prompt),
        source="rules",
    )
