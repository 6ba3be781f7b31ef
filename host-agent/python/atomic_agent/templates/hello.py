"""Hello world in every language the offline provider knows, and the fallback starting point."""

from __future__ import annotations

from .common import INTRO, Program, SourceFile, comment_text, entry_path, fence_language, language_label

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


def _path(language: str, requested: str) -> str:
    default = _HELLO[language][0]
    return default if language == "java" else entry_path(requested, language, default)


def _run(language: str, path: str) -> str:
    return f"Run it with `{_HELLO[language][2].format(path=path)}`."


def hello_program(language: str, requested_entry: str) -> Program:
    path = _path(language, requested_entry)
    source = _HELLO[language][1]
    return Program(
        intro=INTRO + f'a {language_label(language)} program that prints "Hello, World!".',
        files=[SourceFile(path, fence_language(language), source)],
        outro=_run(language, path),
    )


def starter_program(language: str, requested_entry: str, prompt: str, note: str) -> Program:
    path = _path(language, requested_entry)
    source = _HELLO[language][1]
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
        files=[SourceFile(path, fence_language(language), source)],
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
