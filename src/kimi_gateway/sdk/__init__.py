"""The Python SDK: the gateway's engine in-process (or a running gateway), a guarded tool loop,
chat with files, and conversations kept within the context window. See README "Python SDK".

``import kimi_gateway`` stays cheap: the package's ``__init__`` loads this module only when one
of its names is first used.
"""

from kimi_gateway.core.errors import GatewayError as KimiError
from kimi_gateway.core.usage import Usage
from kimi_gateway.sdk.client import AsyncKimi
from kimi_gateway.sdk.conversation import AsyncConversation
from kimi_gateway.sdk.file_cache import FileRecord
from kimi_gateway.sdk.file_limits import FileLimitError
from kimi_gateway.sdk.files import AsyncFiles
from kimi_gateway.sdk.models import ModelInfo
from kimi_gateway.sdk.results import ChatResult, Delta, ToolCall, ToolCallDelta
from kimi_gateway.sdk.stream import ChatStream
from kimi_gateway.sdk.sync import Kimi, SyncChatStream
from kimi_gateway.sdk.sync_parts import Conversation, Files
from kimi_gateway.sdk.toolcall import ToolAudit
from kimi_gateway.sdk.toolloop import RepeatPolicy, RunResult, Step
from kimi_gateway.sdk.tools import WEB_SEARCH, Tool, raw_tool, tool

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
    "FileRecord",
    "Files",
    "Kimi",
    "KimiError",
    "ModelInfo",
    "RepeatPolicy",
    "RunResult",
    "Step",
    "SyncChatStream",
    "Tool",
    "ToolAudit",
    "ToolCall",
    "ToolCallDelta",
    "Usage",
    "raw_tool",
    "tool",
]
