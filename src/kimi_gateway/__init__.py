"""kimi-gateway: run Kimi behind OpenAI- and Anthropic-speaking clients, or from Python.

``from kimi_gateway import Kimi, AsyncKimi, tool`` gives the SDK (kimi_gateway/sdk). Importing
the package itself loads nothing else: the SDK's names are loaded on first use (PEP 562), so the
CLI, the server and the emulator do not pay for them, nor they for it.
"""

from __future__ import annotations

__version__ = "0.1.0"

TYPE_CHECKING = False  # not typing's: importing typing here would cost every CLI start
if TYPE_CHECKING:
    from typing import Any

    from kimi_gateway.sdk import (
        WEB_SEARCH,
        AsyncConversation,
        AsyncFiles,
        AsyncKimi,
        ChatResult,
        ChatStream,
        Conversation,
        Delta,
        FileLimitError,
        Files,
        Kimi,
        KimiError,
        ModelInfo,
        RepeatPolicy,
        RunResult,
        Tool,
        ToolAudit,
        ToolCall,
        raw_tool,
        tool,
    )

__all__ = [
    "WEB_SEARCH",
    "AsyncConversation",
    "AsyncFiles",
    "AsyncKimi",
    "ChatResult",
    "ChatStream",
    "Conversation",
    "Delta",
    "FileLimitError",
    "Files",
    "Kimi",
    "KimiError",
    "ModelInfo",
    "RepeatPolicy",
    "RunResult",
    "Tool",
    "ToolAudit",
    "ToolCall",
    "__version__",
    "raw_tool",
    "tool",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        # By name, so that modules importing __version__ from here are not seen (by
        # import-linter) as importing the SDK; only the first use of an SDK name loads it.
        import importlib

        return getattr(importlib.import_module("kimi_gateway.sdk"), name)
    raise AttributeError(f"module 'kimi_gateway' has no attribute {name!r}")
