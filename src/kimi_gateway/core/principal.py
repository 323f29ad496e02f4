"""Who is calling: the principal a face authenticated, as the engine and its hooks see it.

The face (server, SDK) decides who the caller is; the engine's hooks decide what that caller may
do (models now; budgets and limits per key later). No I/O here.
"""

from __future__ import annotations

from kimi_gateway.core.records import record


@record
class Principal:
    """The caller of one request."""

    key_id: str | None  # None: anonymous (auth optional)
    models: tuple[str, ...] = ()  # allowed model names; empty = all
    admin: bool = False

    def allows(self, *names: str) -> bool:
        """Whether any of ``names`` (the name asked for, the model it resolves to) is allowed."""
        return not self.models or any(name in self.models for name in names)


ANONYMOUS = Principal(key_id=None)
MASTER = Principal(key_id="master", admin=True)
