"""LLM providers: the offline template generator and any OpenAI-compatible server."""

from __future__ import annotations

from ..config import Config
from ..log import Logger
from .base import Emit, Finish, Health, Provider


def make_provider(config: Config, log: Logger) -> Provider:
    if config.base_url is None:
        from .offline import OfflineProvider

        return OfflineProvider(delay_ms=config.offline_delay_ms)
    from .openai_compat import OpenAICompatProvider

    assert config.model is not None  # load_config requires it with a base URL
    return OpenAICompatProvider(
        base_url=config.base_url,
        model=config.model,
        api_key=config.api_key,
        timeout_s=config.llm_timeout_ms / 1000,
        log=log.child(provider="openai"),
    )


__all__ = ["Emit", "Finish", "Health", "Provider", "make_provider"]
