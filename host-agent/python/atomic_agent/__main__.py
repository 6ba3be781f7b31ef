"""`python3 -m atomic_agent`: run the reference agent until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import signal
import sys

from . import __version__
from .config import Config, ConfigError, load_config
from .log import Logger
from .providers import make_provider
from .server import Agent


async def serve(config: Config, log: Logger) -> int:
    provider = make_provider(config, log)
    agent = Agent(config, provider, log)
    stop = asyncio.Event()
    force = asyncio.Event()

    def on_signal(signum: int) -> None:
        # The first signal drains; a second one ends what is still running at once.
        if stop.is_set():
            force.set()
        stop.set()
        log.info("signal received", signal=signal.Signals(signum).name)

    loop = asyncio.get_running_loop()
    # Handlers go in before the socket appears: whoever sees the socket may signal at once.
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        await agent.start()
    except ConfigError as exc:
        log.error(str(exc), variable=exc.variable)
        return 2
    log.info(
        "listening",
        socket=config.socket_path,
        provider=provider.name,
        model=provider.model,
        version=__version__,
    )
    await stop.wait()
    log.info("shutting down", drain_ms=config.drain_ms)
    await agent.shutdown(force)
    log.info("stopped")
    return 0


def main() -> int:
    try:
        config = load_config()
    except ConfigError as exc:
        Logger(40).error(str(exc), variable=exc.variable)
        return 2
    log = Logger(config.log_level, component="atomic-agent")
    return asyncio.run(serve(config, log))


if __name__ == "__main__":
    sys.exit(main())
