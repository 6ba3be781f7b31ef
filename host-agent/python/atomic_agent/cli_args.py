"""The command line of `python3 -m atomic_agent` (and `atomic-llm-agent`): settings are ATOMIC_*
variables; the only flags are --help and --version, and anything else is refused, so a mistyped
flag never starts an agent."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Literal, Sequence

from .config import SETTINGS
from .stop_signals import SAME_STOP_WINDOW_S

NAME = "atomic-llm-agent"
WIDTH = 100


@dataclass(frozen=True)
class CliRequest:
    kind: Literal["run", "help", "version", "error"]
    message: str = ""


def read_cli_args(args: Sequence[str]) -> CliRequest:
    """What the arguments after the command ask for; an error names the offending argument."""
    help_ = version = False
    options_end = False
    for arg in args:
        if arg == "--" and not options_end:
            options_end = True
        elif options_end or not arg.startswith("-") or arg == "-":
            return CliRequest("error", f'unexpected argument "{arg}": settings are ATOMIC_* variables')
        elif arg in ("-h", "--help"):
            help_ = True
        elif arg == "--version":
            version = True
        elif arg.split("=", 1)[0] in ("--help", "--version"):
            return CliRequest("error", f"{arg.split('=', 1)[0]} takes no value")
        else:
            return CliRequest("error", f"unknown option {arg} (it takes --help and --version)")
    if help_:
        return CliRequest("help")
    if version:
        return CliRequest("version")
    return CliRequest("run")


def _wrap(text: str, indent: str = "") -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False)


def usage() -> str:
    """The --help text; its variables are config.SETTINGS, the table load_config reads."""
    seconds = f"{SAME_STOP_WINDOW_S:g}"
    lines = [
        f"Usage: {NAME} [--help | --version]",
        "       python3 -m atomic_agent [--help | --version]    (in host-agent/python)",
        "",
        *_wrap(
            "The reference LLM agent of Atomic Orchestrator: serves the host-agent over a Unix socket "
            "(newline-delimited JSON, docs/ipc-protocol.md), with an OpenAI-compatible server or the "
            "offline provider. Python 3.11+, standard library only."
        ),
        "",
        *_wrap(
            "SIGTERM, SIGINT (Ctrl-C) or SIGHUP drains: no new connections or requests, running requests "
            "finish (or are ended with a retryable error after ATOMIC_IPC_DRAIN_MS), then it exits 0. "
            f"Another signal more than {seconds} s after the first ends them at once; one within {seconds} s "
            "is the same request arriving twice (systemd signals the whole unit, a terminal the whole "
            "process group, and the atomic-llm-agent wrapper passes its signal on too)."
        ),
        "",
        "Options:",
        "  -h, --help     print this help and exit",
        "  --version      print the version and exit",
        "",
        "Environment (a bad value stops it with a line naming the variable, exit code 2):",
    ]
    for setting in SETTINGS:
        shown = f"default: {setting.shown_default()}"
        if setting.low is not None:
            shown += f"; an integer from {setting.low} to {setting.high}"
        lines.append(f"  {setting.name}  ({shown})")
        lines.extend(_wrap(setting.meaning, "      "))
    return "\n".join(lines) + "\n"
