"""Every template of the offline provider in Python, JavaScript and TypeScript, as (name, prompt,
language, framework, entry file): what the template tests render and check.

`python3 -m tests.template_cases DIR` (from host-agent/python) writes each one's files to
DIR/<name>/, to run their tests by hand or in the sandbox image."""

from __future__ import annotations

import os
import sys

from atomic_agent.protocol import Requirements
from atomic_agent.templates import build_markdown

from .support import split_files

PROMPTS = {
    "hello": "Hello World",
    "starter": "Build a web scraper for news sites",
    "cli": "Write a command-line tool",
    "rest": "Create a REST API for user management",
    "rest-books": "A CRUD API for books",
    "fibonacci": "a function that returns the nth fibonacci number",
    "factorial": "compute a factorial",
    "prime": "check whether a number is prime",
    "palindrome": "detect palindromes",
    "reverse": "a function to reverse a string",
    "sum": "a function to sum a list of numbers",
}
LANGUAGES = {"python": "py", "javascript": "js", "typescript": "ts"}


def cases() -> list[tuple[str, str, str, str | None, str]]:
    found: list[tuple[str, str, str, str | None, str]] = []
    for kind, prompt in PROMPTS.items():
        for language, ext in LANGUAGES.items():
            found.append((f"{kind}-{ext}", prompt, language, None, f"main.{ext}"))
            if kind.startswith("rest") and language != "python":
                found.append((f"{kind}-express-{ext}", prompt, language, "express", f"main.{ext}"))
    # Entry files elsewhere than main.*: the tests sit next to the program and import it by its name.
    found.append(("cli-src-py", PROMPTS["cli"], "python", None, "src/wc.py"))
    found.append(("rest-src-express-ts", PROMPTS["rest"], "typescript", "express", "src/server.ts"))
    found.append(("rest-app-js", PROMPTS["rest"], "javascript", None, "app.js"))
    return found


def render(prompt: str, language: str, framework: str | None, entry: str) -> str:
    return build_markdown(prompt, Requirements(language, framework, entry, prompt))


def write_all(folder: str) -> list[str]:
    names = []
    for name, prompt, language, framework, entry in cases():
        for path, content in split_files(render(prompt, language, framework, entry)).items():
            full = os.path.join(folder, name, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w", encoding="utf-8") as handle:
                handle.write(content)
        names.append(name)
    return names


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python3 -m tests.template_cases DIR")
    print("\n".join(write_all(sys.argv[1])))
