"""Which template a prompt asks for."""

from __future__ import annotations

import re

_REST = re.compile(r"\b(rest(ful)?|crud|api|endpoints?|web ?server|http server|backend)\b", re.I)
_CLI = re.compile(r"\b(cli|command[- ]line|terminal (tool|app|program)|argparse)\b", re.I)
_HELLO = re.compile(r"\bhello\b", re.I)
_RESOURCES = [
    ("users", re.compile(r"\busers?\b|\baccounts?\b", re.I)),
    ("todos", re.compile(r"\btodos?\b|\bto-dos?\b", re.I)),
    ("tasks", re.compile(r"\btasks?\b", re.I)),
    ("books", re.compile(r"\bbooks?\b", re.I)),
    ("products", re.compile(r"\bproducts?\b", re.I)),
    ("notes", re.compile(r"\bnotes?\b", re.I)),
    ("items", re.compile(r"\bitems?\b", re.I)),
]
_FUNCTIONS = [
    ("fibonacci", re.compile(r"fibonacci", re.I)),
    ("factorial", re.compile(r"factorial", re.I)),
    ("palindrome", re.compile(r"palindrom", re.I)),
    ("prime", re.compile(r"\bprimes?\b|\bprimality\b", re.I)),
    ("reverse", re.compile(r"\brevers(e|es|ed|ing)\b", re.I)),
    ("sum", re.compile(r"\bsums?\b|\badd(s|ing)?\b|\btotal\b", re.I)),
]


def detect_resource(prompt: str) -> str:
    """The first resource the prompt names (by position), users when it names none."""
    found = [(m.start(), name) for name, rx in _RESOURCES if (m := rx.search(prompt))]
    return min(found)[1] if found else "users"


def detect_kind(prompt: str) -> tuple[str, str]:
    """("rest", resource) | ("cli", "") | ("function", name) | ("hello", "") | ("starter", "")."""
    if _REST.search(prompt):
        return "rest", detect_resource(prompt)
    if _CLI.search(prompt):
        return "cli", ""
    for name, rx in _FUNCTIONS:
        if rx.search(prompt):
            return "function", name
    if _HELLO.search(prompt) or prompt.strip() == "":
        return "hello", ""
    return "starter", ""
