"""`python3 -m atomic_agent`: run the reference agent until SIGTERM, SIGINT or SIGHUP."""

from __future__ import annotations

import asyncio
import signal
import sys

from . import __version__
from .cli_args import NAME, read_cli_args, usage
from .config import Config, ConfigError, load_config
from .log import Logger
from .providers import make_provider
from .server import Agent
from .stop_signals import StopSignals


async def serve(config: Config, log: Logger) -> int:
    provider = make_provider(config, log)
    agent = Agent(config, provider, log)
    stop = asyncio.Event()
    force = asyncio.Event()
    stops = StopSignals()

    def on_signal(signum: int) -> None:
        # The first signal drains; a repeat within a second is the same request (systemd and the
        # atomic-llm-agent wrapper both send it); a later one ends what is still running at once.
        action = stops.next(loop.time())
        log.info("signal received", signal=signal.Signals(signum).name, action=action)
        if action == "now":
            force.set()
        stop.set()

    loop = asyncio.get_running_loop()
    # Handlers go in before the socket appears: whoever sees the socket may signal at once.
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
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


def main(args: list[str]) -> int:
    request = read_cli_args(args)
    if request.kind == "error":
        sys.stderr.write(f"{NAME}: {request.message}\n")
        return 2
    if request.kind == "help":
        sys.stdout.write(usage())
        return 0
    if request.kind == "version":
        sys.stdout.write(f"{__version__}\n")
        return 0
    try:
        config = load_config()
    except ConfigError as exc:
        Logger(40).error(str(exc), variable=exc.variable)
        return 2
    log = Logger(config.log_level, component="atomic-agent")
    return asyncio.run(serve(config, log))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
