"""The pieces every backend shares (shipmark.targets.base and its neighbours), checked for every type."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import pytest

from shipmark.config import load_settings
from shipmark.errors import ConfigError
from shipmark.targets import TARGET_TYPES, target_class

from tests.conftest import CANARY, assert_no_canary

# The keys each type needs besides its token, so that only the token is wrong.
OTHER_KEYS: Dict[str, Dict[str, Any]] = {
    "releasebits": {"component": "web"},
    "deploybot": {"url": "https://acme.deploybot.com"},
    "buildmaster": {"url": "https://bm.example.com", "application": "Web"},
    "beanstalk": {"url": "https://acme.beanstalkapp.com", "username": "ci"},
    "aviator": {"project": "web"},
    "file": {"path": "events.jsonl"},
}
NEEDS_TOKEN = sorted(t for t in TARGET_TYPES if target_class(t).config_model.token_required)


def test_every_type_is_covered_and_every_http_type_needs_a_token() -> None:
    assert set(OTHER_KEYS) == set(TARGET_TYPES)
    assert NEEDS_TOKEN == ["aviator", "beanstalk", "buildmaster", "deploybot", "releasebits"]


def _config_error(tmp_path: Path, type_name: str, **keys: str) -> str:
    env = {"SHIPMARK_TARGET_T_TYPE": type_name, **{f"SHIPMARK_TARGET_T_{k.upper()}": str(v)
                                                  for k, v in {**OTHER_KEYS[type_name], **keys}.items()}}
    with pytest.raises(ConfigError) as info:
        load_settings(None, env, tmp_path)
    return info.value.message


@pytest.mark.parametrize("type_name", NEEDS_TOKEN)
def test_a_missing_token_is_one_error_for_every_type(tmp_path: Path, type_name: str) -> None:
    hint = target_class(type_name).config_model.token_hint
    assert hint
    assert _config_error(tmp_path, type_name).endswith(
        f"target 't' (with SHIPMARK_TARGET_* variables): key 'token': required key is missing: set it to {hint}")


@pytest.mark.parametrize("type_name", NEEDS_TOKEN)
@pytest.mark.parametrize("token", ["", "   "])
def test_an_empty_or_blank_token_is_one_error_for_every_type(tmp_path: Path, type_name: str, token: str) -> None:
    """Aviator once accepted token: "" (and sent `Authorization: Bearer `)."""
    hint = target_class(type_name).config_model.token_hint
    keys = ", ".join(f"{k}: '{v}'" for k, v in OTHER_KEYS[type_name].items())
    (tmp_path / "shipmark.yml").write_text(f"targets:\n  t: {{type: {type_name}, token: '{token}', {keys}}}\n")
    with pytest.raises(ConfigError) as info:
        load_settings(None, {}, tmp_path)
    assert info.value.message == f"shipmark.yml: target 't': key 'token': is empty: set it to {hint}"


def test_the_aviator_token_may_not_be_empty() -> None:
    from pydantic import ValidationError

    from shipmark.targets.aviator import AviatorConfig

    with pytest.raises(ValidationError, match="token\n  Value error, is empty: set it to an Aviator API token"):
        AviatorConfig.model_validate({"type": "aviator", "name": "av", "project": "web", "token": ""})
    assert AviatorConfig.model_validate({"type": "aviator", "name": "av", "project": "web", "token": CANARY})


def test_a_type_without_the_rule_takes_no_token(tmp_path: Path) -> None:
    settings = load_settings(None, {"SHIPMARK_TARGET_F_TYPE": "file", "SHIPMARK_TARGET_F_PATH": "x"}, tmp_path)
    assert settings.targets["f"].token is None


def test_token_errors_never_echo_the_token(tmp_path: Path) -> None:
    message = _config_error(tmp_path, "deploybot", token=CANARY, url="http://acme.deploybot.com")
    assert "must be https" in message
    assert_no_canary(message)
