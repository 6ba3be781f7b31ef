"""Configuration from the environment, parsed once at start-up.

Every problem is reported as a ConfigError naming the variable, so the process can exit with a
message a person can act on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlsplit

DEFAULT_SOCKET = "/tmp/atomic_llm_agent.sock"
# sockaddr_un.sun_path is 108 bytes on Linux, one of them the terminating NUL.
MAX_SOCKET_PATH_BYTES = 107
LOG_LEVELS = {"DEBUG": 10, "INFO": 20, "WARN": 30, "WARNING": 30, "ERROR": 40}


class ConfigError(Exception):
    """A bad value in one environment variable."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"invalid {variable}: {problem}")
        self.variable = variable


@dataclass(frozen=True)
class Setting:
    """One ATOMIC_* variable: load_config takes its default (and an integer's range) from here and
    `--help` prints it, so the two cannot disagree."""

    name: str
    default: str | None  # None: unset by default
    meaning: str
    low: int | None = None  # an integer setting's range
    high: int | None = None

    def shown_default(self) -> str:
        return "unset" if self.default is None else self.default


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "ATOMIC_IPC_SOCKET",
        DEFAULT_SOCKET,
        f"the Unix socket to listen on (at most {MAX_SOCKET_PATH_BYTES} bytes; its folder must exist). A stale "
        "socket file there is replaced; a live socket or any other file is refused.",
    ),
    Setting(
        "ATOMIC_LLM_BASE_URL",
        None,
        "an OpenAI-compatible API such as http://127.0.0.1:8000/v1; unset: the offline provider "
        "(built-in templates, no model, no network)",
    ),
    Setting("ATOMIC_LLM_MODEL", None, "the model to ask for; required with ATOMIC_LLM_BASE_URL"),
    Setting("ATOMIC_LLM_API_KEY", None, "sent as Authorization: Bearer ... when set"),
    Setting(
        "ATOMIC_LLM_TIMEOUT_MS",
        "60000",
        "connect timeout and longest silence while reading from the LLM server",
        100,
        3_600_000,
    ),
    Setting("ATOMIC_LLM_OFFLINE_DELAY_MS", "0", "offline provider: pause between chunks", 0, 60_000),
    Setting(
        "ATOMIC_IPC_DRAIN_MS",
        "5000",
        "on the first stop signal, how long running requests may finish before they are ended",
        0,
        600_000,
    ),
    Setting("ATOMIC_LOG_LEVEL", "INFO", "DEBUG, INFO, WARN (or WARNING) or ERROR; JSON lines on stderr"),
)
_SETTING = {setting.name: setting for setting in SETTINGS}


@dataclass(frozen=True)
class Config:
    socket_path: str
    log_level: int
    base_url: str | None
    model: str | None
    api_key: str | None
    offline_delay_ms: int
    llm_timeout_ms: int
    drain_ms: int

    @property
    def provider_name(self) -> str:
        return "offline" if self.base_url is None else "openai"


def _int(env: Mapping[str, str], name: str) -> int:
    setting = _SETTING[name]
    assert setting.default is not None and setting.low is not None and setting.high is not None
    low, high = setting.low, setting.high
    raw = env.get(name, "").strip()
    if raw == "":
        return int(setting.default)
    try:
        value = int(raw, 10)
    except ValueError:
        raise ConfigError(name, f"expected an integer from {low} to {high}, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(name, f"expected an integer from {low} to {high}, got {value}")
    return value


def _socket_path(env: Mapping[str, str]) -> str:
    name = "ATOMIC_IPC_SOCKET"
    path = env.get(name, "").strip() or DEFAULT_SOCKET
    if "\0" in path:
        raise ConfigError(name, "the path contains a NUL byte")
    if len(os.fsencode(path)) > MAX_SOCKET_PATH_BYTES:
        raise ConfigError(name, f"a Unix socket path is at most {MAX_SOCKET_PATH_BYTES} bytes, got {path!r}")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise ConfigError(name, f"the folder {parent!r} does not exist")
    return path


def _base_url(env: Mapping[str, str]) -> str | None:
    name = "ATOMIC_LLM_BASE_URL"
    raw = env.get(name, "").strip()
    if raw == "":
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(name, f"expected an http(s) URL such as http://127.0.0.1:8000/v1, got {raw!r}")
    if parts.query or parts.fragment:
        raise ConfigError(name, f"the URL must not have a query or fragment, got {raw!r}")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ConfigError(name, f"the URL has an invalid port: {raw!r}") from None
    return raw.rstrip("/")


def load_config(env: Mapping[str, str] | None = None) -> Config:
    """Reads every ATOMIC_* variable of SETTINGS (and no other); raises ConfigError on the first bad one."""
    env = os.environ if env is None else env
    level_raw = env.get("ATOMIC_LOG_LEVEL", "").strip().upper() or str(_SETTING["ATOMIC_LOG_LEVEL"].default)
    if level_raw not in LOG_LEVELS:
        raise ConfigError("ATOMIC_LOG_LEVEL", f"expected DEBUG, INFO, WARN or ERROR, got {level_raw!r}")
    base_url = _base_url(env)
    model = env.get("ATOMIC_LLM_MODEL", "").strip() or None
    if base_url is not None and model is None:
        raise ConfigError("ATOMIC_LLM_MODEL", "required when ATOMIC_LLM_BASE_URL is set (the model name to ask for)")
    return Config(
        socket_path=_socket_path(env),
        log_level=LOG_LEVELS[level_raw],
        base_url=base_url,
        model=model,
        api_key=env.get("ATOMIC_LLM_API_KEY", "").strip() or None,
        offline_delay_ms=_int(env, "ATOMIC_LLM_OFFLINE_DELAY_MS"),
        llm_timeout_ms=_int(env, "ATOMIC_LLM_TIMEOUT_MS"),
        drain_ms=_int(env, "ATOMIC_IPC_DRAIN_MS"),
    )
