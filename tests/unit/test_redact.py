"""shipmark.redact: known secrets in every encoding, credential-shaped values, headers."""
from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shipmark import redact
from shipmark.redact import MASK
from tests.conftest import CANARY


def test_registered_secret_in_every_encoding() -> None:
    secret = 'tok/+ "en\\1'
    redact.register(secret, username="ci")
    for form in (secret, quote(secret, safe=""), json.dumps(secret)[1:-1],
                 base64.b64encode(f"ci:{secret}".encode()).decode()):
        assert redact.redact(f"before {form} after") == f"before {MASK} after"


def test_short_values_are_not_secrets() -> None:
    redact.register("abc")
    redact.register("")
    redact.register(None)
    assert redact.registered() == [] and redact.redact("abc") == "abc"


def test_longest_secret_is_masked_whole() -> None:
    redact.register("abcd")
    redact.register("abcdefgh")
    assert redact.redact("abcdefgh") == MASK


def test_reset_forgets() -> None:
    redact.register(CANARY)
    redact.reset()
    assert redact.redact(CANARY) == CANARY


@pytest.mark.parametrize("text,expected", [
    ("GET https://x/a?token=abc&b=1", "GET https://x/a?token=***&b=1"),
    ("https://x/a?b=1&access_token=abc#frag", "https://x/a?b=1&access_token=***#frag"),
    ("https://x/a?key=abc", "https://x/a?key=***"),
    ("https://x/a?api_key=abc;x=1", "https://x/a?api_key=***;x=1"),
    ("https://x/a?private_token=abc", "https://x/a?private_token=***"),
    ("key=abc&releaseNumber=1", "key=***&releaseNumber=1"),  # a form body
    ("https://x/a?monkey=1&keyword=2", "https://x/a?monkey=1&keyword=2"),
    ("expected KEY=VALUE", "expected KEY=VALUE"),  # prose, not a query
    ("https://user:pass@host/x", "https://***@host/x"),
    ("git+ssh://git@host/x", "git+ssh://***@host/x"),
    ("mail dev@example.com", "mail dev@example.com"),
    ('{"token": "abc", "x": "y"}', '{"token": "***", "x": "y"}'),
    ('{"password":"p\\"q", "n": 1}', '{"password":"***", "n": 1}'),
    ('{"token": ""}', '{"token": ""}'),
    ('{"key": "deploy"}', '{"key": "deploy"}'),  # an ordinary field named key
    ("shipmark_event_key=abc", "shipmark_event_key=abc"),
])
def test_credential_shaped_values(text: str, expected: str) -> None:
    assert redact.redact(text) == expected


def test_headers_show_only_the_scheme() -> None:
    shown = dict(redact.redact_headers([("Authorization", "Bearer xyz"), ("X-Api-Token", "xyz"),
                                        ("X-ApiKey", "xyz"), ("Proxy-Authorization", "Basic eHl6"),
                                        ("Accept", "application/json")]))
    assert shown == {"Authorization": "Bearer ***", "X-Api-Token": "***", "X-ApiKey": "***",
                     "Proxy-Authorization": "Basic ***", "Accept": "application/json"}


def test_header_shaped_text_from_a_server() -> None:
    text = "denied: Authorization: Bearer abc.def, X-Api-Token=zzz x-apikey: qq"
    assert redact.redact_auth_text(text) == "denied: Authorization: Bearer ***, X-Api-Token=*** x-apikey: ***"


def test_non_strings_are_redacted_too() -> None:
    redact.register(CANARY)
    assert redact.redact(ValueError(f"bad {CANARY}")) == f"bad {MASK}"
    assert redact.redact({"t": CANARY}) == "{'t': '***'}"


def test_redact_is_idempotent() -> None:
    redact.register(CANARY)
    once = redact.redact(f"{CANARY} ?token=abc https://u:p@h")
    assert redact.redact(once) == once


SECRET = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~+/=:@!$%^&",
                 min_size=4, max_size=40)


@settings(max_examples=150, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secret=SECRET, before=st.text(max_size=30), after=st.text(max_size=30),
       encoding=st.sampled_from(["raw", "quote", "json", "basic"]))
def test_a_registered_secret_never_survives(secret: str, before: str, after: str, encoding: str) -> None:
    redact.reset()
    redact.register(secret, username="ci")
    form = {"raw": secret, "quote": quote(secret, safe=""), "json": json.dumps(secret)[1:-1],
            "basic": base64.b64encode(f"ci:{secret}".encode()).decode()}[encoding]
    out = redact.redact(before + form + after)
    assert form not in out or form in before + after  # it can only remain where the input had more copies
    assert secret not in out or secret in MASK or secret in (before + after).replace(form, "")
    redact.reset()
