"""The ``responses:`` section of the settings: the OpenAI Responses face (README "Codex and
Responses clients"). YAML only; read once by :mod:`kimi_gateway.settings`.

- ``store``: keep responses made with ``store`` not false, so ``previous_response_id``,
  ``GET /v1/responses/{id}`` and its ``input_items`` work (the API's default); ``false`` keeps
  nothing and refuses ``previous_response_id``.
- ``ttl_seconds``: how long a stored response lives after it was made or last continued
  (OpenAI keeps them 30 days).
- ``sealing_key_env``: the environment variable holding the key that seals reasoning
  ``encrypted_content`` (at least 32 characters; every replica needs the same). Unset: a key
  generated once and kept in the data directory (``responses-sealing.key``, mode 0600).
- ``web_search_rounds``: how many Kimi ``$web_search`` rounds the gateway runs inside one
  response before it stops with an error (each round is one more Kimi call).
"""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

MIN_SEALING_KEY = 32


class ResponsesSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    store: bool = True
    ttl_seconds: float = Field(default=30 * 24 * 3600.0, gt=0)
    sealing_key_env: str | None = None
    sealing_key: SecretStr | None = None  # from sealing_key_env; never give it in the file
    web_search_rounds: int = Field(default=3, ge=1, le=10)

    @model_validator(mode="after")
    def _key_from_environment(self) -> ResponsesSettings:
        if self.sealing_key_env is None:
            return self
        value = os.environ.get(self.sealing_key_env)
        if not value:
            raise ValueError(f"environment variable {self.sealing_key_env} is not set")
        if len(value) < MIN_SEALING_KEY:
            raise ValueError(
                f"environment variable {self.sealing_key_env}: a sealing key needs at least "
                f"{MIN_SEALING_KEY} characters"
            )
        object.__setattr__(self, "sealing_key", SecretStr(value))
        return self
