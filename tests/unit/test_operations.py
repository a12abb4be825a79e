"""The operation table is the one list of operations; requests spooled by 0.1.0 still read back."""
from __future__ import annotations

import pytest

from shipmark.operations import LIST_OPERATIONS, OPERATIONS, WAIT_OPERATIONS, WRITE_OPERATIONS, words
from shipmark.targets import TARGET_TYPES, target_class
from shipmark.targets.base import Request


def test_the_table_classifies_every_operation_once():
    assert WRITE_OPERATIONS == {"deploy", "deployment_update", "deployment_retry", "release_create",
                                "release_cancel", "release_restore", "build_create", "build_deploy",
                                "build_reject"}
    assert LIST_OPERATIONS == {"deployment_list", "release_list", "build_list"}
    assert WAIT_OPERATIONS == {"deploy", "build_deploy", "deployment_retry", "deployment_get"}
    reads = {name for name, op in OPERATIONS.items() if op.access == "read"}
    assert reads == {"deployment_get", "discover"}
    assert not (WRITE_OPERATIONS & LIST_OPERATIONS) and not (reads & (WRITE_OPERATIONS | LIST_OPERATIONS))
    assert all(op.spooled == (name in WRITE_OPERATIONS) for name, op in OPERATIONS.items())


def test_words_are_what_the_cli_calls_an_operation():
    assert words("deployment_list") == "deployment list"
    assert words("discover") == "targets --discover"
    assert words("no_such_thing") == "no_such_thing"


@pytest.mark.parametrize("type_name", sorted(TARGET_TYPES))
def test_every_backend_operation_is_in_the_table(type_name):
    cls = target_class(type_name)
    assert cls.supported_operations(), type_name
    assert set(cls.supported_operations()) <= set(OPERATIONS)


def test_a_request_spooled_by_0_1_0_reads_back_with_its_buildmaster_options():
    old = {
        "operation": "release_create", "command": "release create", "build": None,
        "template": "Hotfix", "pipeline": "Fast", "force": False, "reason": None, "id": None,
        "limit": 100, "params": {}, "environment_explicit": False, "dry_run": False,
        "event": {"kind": "release", "operation": "release_create", "version": "1.2.3",
                  "status": "success", "meta": {}, "context": {}, "event_key": "abc"},
    }
    request = Request.from_json_dict(old)
    assert request.options == {"template": "Hotfix", "pipeline": "Fast"}
    assert request.event.version == "1.2.3" and request.event.event_key == "abc"
    forced = Request.from_json_dict({**old, "operation": "build_deploy", "template": None, "pipeline": None,
                                     "force": True})
    assert forced.options == {"force": True}


def test_backend_options_round_trip_through_the_spool_format():
    request = Request.from_json_dict({"operation": "build_deploy", "options": {"force": True},
                                      "event": {"kind": "build", "operation": "build_deploy"}})
    assert Request.from_json_dict(request.to_json_dict()).options == {"force": True}
    assert "force" not in request.to_json_dict()
