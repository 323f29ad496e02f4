"""settings.py: YAML file plus environment, environment wins, errors name the field and source."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kimi_gateway.cli.main import app
from kimi_gateway.settings import ENV_NAMES, SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for names in ENV_NAMES.values():
        for name in names:
            monkeypatch.delenv(name, raising=False)


def _yaml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file_or_environment() -> None:
    settings = load_settings(None)
    assert (settings.host, settings.port, settings.region) == ("127.0.0.1", 8787, "global")
    assert settings.api_key is None
    assert not settings.has_upstream_key


def test_file_values_are_read(tmp_path: Path) -> None:
    path = _yaml(tmp_path, "port: 9001\nregion: cn\ndefault_model: kimi-k3\ntemperature: 0.3\n")
    settings = load_settings(path)
    assert (settings.port, settings.region, settings.default_model) == (9001, "cn", "kimi-k3")
    assert settings.temperature == 0.3


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _yaml(tmp_path, "port: 9001\ndefault_model: kimi-k3\n")
    monkeypatch.setenv("KIMI_GATEWAY_PORT", "9002")
    settings = load_settings(path)
    assert (settings.port, settings.default_model) == (9002, "kimi-k3")


def test_moonshot_api_key_is_accepted_and_kept_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOONSHOT_API_KEY", "sk-sentinel-settings")
    settings = load_settings(None)
    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == "sk-sentinel-settings"
    assert "sk-sentinel-settings" not in repr(settings)
    assert settings.has_upstream_key


def test_bad_file_value_names_the_field_and_the_file(tmp_path: Path) -> None:
    path = _yaml(tmp_path, "temperature: hot\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    assert f"temperature (from config file {path}):" in str(caught.value)


def test_bad_environment_value_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_REGION", "mars")
    with pytest.raises(SettingsError) as caught:
        load_settings(_yaml(tmp_path, "port: 9001\n"))
    assert "region (from environment variable KIMI_REGION):" in str(caught.value)


def test_unknown_file_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(_yaml(tmp_path, "api_kee: x\n"))
    assert "api_kee (from config file" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("- a\n- b\n", "must hold a mapping"), ("a: [\n", "is not valid YAML")],
)
def test_malformed_files_are_refused(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(_yaml(tmp_path, text))
    assert expected in str(caught.value)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(tmp_path / "absent.yaml")
    assert "cannot read config file" in str(caught.value)


def test_serve_fails_at_start_with_the_message(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "--config", str(_yaml(tmp_path, "port: x\n"))])
    assert result.exit_code == 2
    assert "port (from config file" in result.output
