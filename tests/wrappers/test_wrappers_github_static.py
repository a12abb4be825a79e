"""The four GitHub actions install shipmark with the same steps.

action.yml and actions/deploy|release|build each carry the install steps (interpreter, wheel
cache key, actions/cache) and the `cache` input: a composite action cannot `uses:` a sibling
action by a relative path (`./` is the caller's workspace, not the action's checkout), so the
steps cannot live in one shared action. This test keeps the copies equal; only the path from
the action to actions/_shared differs.
"""
from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
ROOT = REPO / "action.yml"
FOCUSED = sorted((REPO / "actions").glob("*/action.yml"))
INSTALL_ENV = ("SHIPMARK_WRAP_PYTHON", "SHIPMARK_WRAP_WHEEL_CACHE")


def install_parts(path: Path):
    """(cache input, install steps, the run step's install variables), with the path to
    actions/_shared written the root action's way."""
    action = yaml.safe_load(path.read_text())
    steps = action["runs"]["steps"]
    shared = "actions/_shared" if path == ROOT else "../_shared"
    text = yaml.safe_dump(steps[:-1]).replace(f"$GITHUB_ACTION_PATH/{shared}/", "$GITHUB_ACTION_PATH/actions/_shared/")
    run_env = {name: steps[-1]["env"].get(name) for name in INSTALL_ENV}
    return action["inputs"]["cache"], text, run_env


def test_every_action_installs_with_the_same_steps():
    assert [p.parent.name for p in FOCUSED] == ["build", "deploy", "release"]
    expected = install_parts(ROOT)
    for path in FOCUSED:
        assert install_parts(path) == expected, path.relative_to(REPO)


def test_the_install_steps_pin_actions_by_commit_and_cache_wheels_under_runner_temp():
    _, text, run_env = install_parts(ROOT)
    steps = yaml.safe_load(text)
    uses = [step["uses"] for step in steps if "uses" in step]
    assert uses == ["actions/setup-python@e797f83bcb11b83ae66e0230d6156d7c80228e7c",
                    "actions/cache@0057852bfaa89a56745cba8c7296529d2fc39830"]
    key_step, cache_step = steps[1], steps[2]
    assert key_step["id"] == "wheels" and key_step["if"] == "inputs.cache == 'true'"
    assert key_step["run"] == 'bash "$GITHUB_ACTION_PATH/actions/_shared/wheel-cache.sh"'
    assert cache_step["if"] == "steps.wheels.outputs.dir != ''"
    assert cache_step["with"] == {"path": "${{ steps.wheels.outputs.dir }}", "key": "${{ steps.wheels.outputs.key }}"}
    assert run_env["SHIPMARK_WRAP_WHEEL_CACHE"] == "${{ steps.wheels.outputs.dir }}"
    # Inputs reach the shell only through env:, never inside a run: script.
    assert all("inputs." not in step.get("run", "") for step in steps)
