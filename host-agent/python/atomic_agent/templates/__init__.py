"""Built-in programs of the offline provider.

`build_markdown(prompt, requirements)` picks a template from the prompt (REST API, CLI, a named
function, hello world, or a starting point) and renders it in the fenced-file format of the
protocol: a sentence, then every file as a fenced block whose info string is
"<language> <path>", then how to run it. Same input, same output.
"""

from __future__ import annotations

from ..protocol import Requirements
from ..rules import normalize_language
from .common import Program, language_label, render
from .functions import FUNCTIONS, function_program
from .hello import HELLO_LANGUAGES, hello_program, starter_program, unsupported_program
from .kinds import detect_kind
from .node_programs import node_cli, node_rest_api
from .python_programs import python_cli, python_rest_api

FULL_LANGUAGES = ("python", "javascript", "typescript")


def build_program(prompt: str, requirements: Requirements) -> Program:
    language = normalize_language(requirements.language)
    framework = requirements.framework
    kind, detail = detect_kind(prompt)
    if language not in FULL_LANGUAGES:
        if language not in HELLO_LANGUAGES:
            return unsupported_program(requirements.language)
        if kind == "hello":
            return hello_program(language, requirements.entry_file)
        note = (
            f"there is only a hello-world template for {language_label(language)}, "
            "so this is a starting point that prints \"Hello, World!\"."
        )
        return starter_program(language, requirements.entry_file, prompt, note)
    if kind == "rest":
        if language == "python":
            return python_rest_api(detail, framework, requirements.entry_file)
        return node_rest_api(language, detail, framework, requirements.entry_file)
    if kind == "cli":
        if language == "python":
            return python_cli(requirements.entry_file)
        return node_cli(language, requirements.entry_file)
    if kind == "function":
        return function_program(language, FUNCTIONS[detail], requirements.entry_file)
    if kind == "hello":
        return hello_program(language, requirements.entry_file)
    note = "no built-in template matches this prompt, so this is a starting point that prints \"Hello, World!\"."
    return starter_program(language, requirements.entry_file, prompt, note)


def build_markdown(prompt: str, requirements: Requirements, leave_out: frozenset[str] = frozenset()) -> str:
    """The template's text; files at a path in `leave_out` (the request's pinned tests) are left out."""
    program = build_program(prompt, requirements)
    return render(without(program, leave_out))


def without(program: Program, leave_out: frozenset[str]) -> Program:
    files = [source for source in program.files if source.path not in leave_out]
    return Program(program.intro, files, program.outro) if len(files) < len(program.files) else program


__all__ = ["Program", "build_markdown", "build_program", "without"]
