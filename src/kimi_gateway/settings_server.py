"""The ``server:`` section of the settings: what one gateway process may hold and how many
processes serve (issue 15 items 6 and 7; README "Capacity"). YAML only; read once by
:mod:`kimi_gateway.settings`.

- ``upstream_pool_size``: upstream connections in use at once. A stream holds one for its whole
  life (a coding agent's stream lasts 30-120 s), so this caps the streams in flight; past it a
  call waits for a free one until its own deadline (``total_timeout``), then gets a 503 saying
  so. 1,000 by default: what the gateway held before it was a setting.
- ``raise_fd_limit``: at start, raise the soft limit on open files (RLIMIT_NOFILE) to the hard
  one. Each stream takes two descriptors (the client's and the upstream's); a common soft limit
  of 1,024 would cap a process near 500 streams.
- ``workers``: processes sharing the listening port (``serve --workers N``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ServerSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    upstream_pool_size: int = Field(default=1000, ge=1)
    raise_fd_limit: bool = True
    workers: int = Field(default=1, ge=1, le=256)
