"""The settings of one SDK client: the gateway's own settings (environment variables, defaults;
README "Configuration") with the client's explicit arguments on top.

Precedence, highest first: an argument of ``Kimi(...)`` / ``AsyncKimi(...)``, then the
environment (``KIMI_API_KEY``, ``KIMI_CODE_API_KEY``, ``KIMI_BASE_URL`` …), then a ``Settings``
the caller passed (e.g. from ``load_settings("config.yaml")``), then the defaults. The
environment is read only by ``settings.py`` (DESIGN.md §4.9); this module validates the explicit
arguments with the same rules, so a bad value fails the same way.

Which product a bare ``api_key`` belongs to: ``product=`` when given, else by the key's form
(docs/kimi.md §1: Kimi Code keys start ``sk-kimi-``; any other key is an Open Platform key).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic_settings import PydanticBaseSettingsSource

from kimi_gateway.settings import Settings

Product = Literal["platform", "kimi_code"]
KIMI_CODE_KEY_PREFIX = "sk-kimi-"  # docs/kimi.md §1
KIMI_CODE_DEFAULT_MODEL = "kimi-for-coding"  # §4.1 [O] HC: Kimi Code's documented model name


class _Explicit(Settings):
    """Settings validated from exactly the values given: no environment is read again, so the
    client's arguments win over it (``Settings()`` has already read it)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[Any],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def product_of_key(key: str) -> Product:
    return "kimi_code" if key.startswith(KIMI_CODE_KEY_PREFIX) else "platform"


def client_settings(
    settings: Settings | None = None,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    product: Product | None = None,
    **fields: Any,
) -> Settings:
    """The settings for a client. ``api_key``/``base_url`` go to the product ``product`` names
    (else the key's product); ``fields`` are any other ``Settings`` fields by name
    (``code_api_key``, ``default_model``, ``data_dir``, ``total_timeout`` …)."""
    base = settings if settings is not None else Settings()
    overrides = {name: value for name, value in fields.items() if value is not None}
    chosen = product or (product_of_key(api_key) if api_key is not None else "platform")
    if api_key is not None:
        overrides["code_api_key" if chosen == "kimi_code" else "api_key"] = api_key
    if base_url is not None:
        overrides["code_base_url" if chosen == "kimi_code" else "base_url"] = base_url
    values = {name: getattr(base, name) for name in Settings.model_fields}
    values.update(overrides)
    only_code = values["api_key"] is None and values["code_api_key"] is not None
    if only_code and "default_model" not in overrides and _default_model_is_default(base):
        # kimi-k2.6 is not a Kimi Code model name (§13.1): with only a Kimi Code key, ask for
        # the one name Kimi Code documents.
        values["default_model"] = KIMI_CODE_DEFAULT_MODEL
    return _Explicit(**values)


def _default_model_is_default(settings: Settings) -> bool:
    return "default_model" not in settings.model_fields_set
