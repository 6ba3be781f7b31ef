"""Reference LLM agent for Atomic Orchestrator.

Speaks the IPC protocol of docs/ipc-protocol.md over a Unix socket: newline-delimited JSON
between the host-agent (client) and this process (server). Standard library only.
Start it with ``python3 -m atomic_agent``.
"""

__version__ = "0.1.0"
PROTOCOL_VERSION = 1
