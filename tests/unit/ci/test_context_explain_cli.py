"""`shipmark context --explain`, through the console script: each value with the source it came from."""
from __future__ import annotations

import json

from tests.conftest import run_cli

SHA = "0123456789abcdef0123456789abcdef01234567"
GITHUB_PUSH = {
    "GITHUB_ACTIONS": "true", "GITHUB_SHA": SHA, "GITHUB_REF": "refs/heads/main",
    "GITHUB_REPOSITORY": "acme/web", "GITHUB_RUN_ID": "42", "GITHUB_SERVER_URL": "https://github.com",
}


def rows(stdout: str) -> dict:
    """key -> (value, source or None), from the aligned lines."""
    out = {}
    for line in stdout.splitlines():
        key, _, rest = line.partition(" ")
        value, _, source = rest.strip().partition("  <- ")
        out[key] = (value.strip(), source or None)
    return out


def test_explain_names_the_variable_behind_each_value(tmp_path):
    done = run_cli(["context", "--explain"], env=GITHUB_PUSH, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    shown = rows(done.stdout)
    assert shown["commit"] == (SHA, "GITHUB_SHA")
    assert shown["branch"] == ("main", "GITHUB_REF")
    assert shown["slug"] == ("acme/web", "GITHUB_REPOSITORY")
    assert shown["build_url"] == ("https://github.com/acme/web/actions/runs/42",
                                  "$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID")
    assert shown["tag"] == ("-", None) and shown["pr"] == ("-", None)
    # Every context key is listed once, in the --json order.
    as_json = json.loads(run_cli(["context", "--json"], env=GITHUB_PUSH, cwd=tmp_path).stdout)
    assert list(shown) == list(as_json)


def test_explain_shows_an_override_as_the_source(tmp_path):
    done = run_cli(["context", "--explain"], env={**GITHUB_PUSH, "SHIPMARK_BRANCH": "release/2"}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    value, source = rows(done.stdout)["branch"]
    assert value == "release/2" and "SHIPMARK_BRANCH" in source


def test_explain_with_json_is_a_usage_error_and_json_alone_is_unchanged(tmp_path):
    refused = run_cli(["context", "--explain", "--json"], env=GITHUB_PUSH, cwd=tmp_path)
    # --json answers in JSON even on an error: context's own error object.
    assert refused.returncode == 2 and json.loads(refused.stdout) == {
        "ok": False, "error": "--explain is for reading: use it without --json (the JSON shape stays the same)"}
    # Under GitHub Actions (GITHUB_ACTIONS=true) the error is an annotation.
    assert refused.stderr.strip() == ("::error title=shipmark::--explain is for reading: use it without --json "
                                      "(the JSON shape stays the same)")
    plain = run_cli(["context", "--json"], env=GITHUB_PUSH, cwd=tmp_path)
    assert json.loads(plain.stdout)["commit"] == SHA and "<-" not in plain.stdout
