"""The event_key names one event for one target: what makes a re-run "already recorded".

Same job re-run -> same key; a different commit, target or operation -> a different key,
or a new commit released under an unchanged --version would be taken for a re-run.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from shipmark.models import Status
from tests.conftest import FIXED_TIME, HEAD_SHA, make_event


def test_the_key_is_short_stable_and_the_same_for_a_rerun() -> None:
    first = make_event()
    assert len(first.event_key) == 16 and all(c in "0123456789abcdef" for c in first.event_key)
    rerun = make_event(finished_at=FIXED_TIME + timedelta(minutes=5), started_at=FIXED_TIME)
    assert rerun.event_key == first.event_key


@pytest.mark.parametrize("operation, target, fields", [
    pytest.param("deploy", "t", dict(commit=HEAD_SHA), id="commit"),  # a new commit under the same version
    pytest.param("deploy", "other", {}, id="target"),
    pytest.param("deployment_update", "t", {}, id="operation"),
    pytest.param("deploy", "t", dict(environment="staging"), id="environment"),
    pytest.param("deploy", "t", dict(version="v1.2.4"), id="version"),
    pytest.param("deploy", "t", dict(host="web-2"), id="host"),
    pytest.param("deploy", "t", dict(status=Status.FAILURE), id="status"),
])
def test_each_identifying_input_changes_the_key(operation: str, target: str, fields: dict) -> None:
    assert make_event(operation, target, **fields).event_key != make_event().event_key
