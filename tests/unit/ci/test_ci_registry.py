"""Provider matching: a fixed order, first match wins, CI alone only sets is_ci."""
from __future__ import annotations

import pytest

from shipmark.ci.providers import PROVIDER_MODULES, all_providers, provider_names

# Every CI system shipmark plans to recognise, in the order they must be tried:
# each look-alike before what it imitates (Gitea before GitHub, Harness before
# Drone), Jenkins last. A new provider takes its place here without reordering.
PLANNED_ORDER = (
    "gitea_actions", "github_actions", "gitlab_ci", "harness", "woodpecker", "drone", "vela",
    "screwdriver", "circleci", "azure_pipelines", "bitbucket_pipelines", "buildkite", "travis_ci",
    "teamcity", "bamboo", "aws_codebuild", "google_cloud_build", "semaphore", "appveyor",
    "codefresh", "bitrise", "cirrus_ci", "buddy", "heroku", "netlify", "vercel",
    "cloudflare_pages", "codeship", "jetbrains_space", "wercker", "jenkins",
)  # fmt: skip
LOOK_ALIKES = {"gitea_actions": "github_actions", "harness": "drone"}  # imitator: imitated


def test_planned_order_has_31_distinct_ids():
    assert len(PLANNED_ORDER) == len(set(PLANNED_ORDER)) == 31


def test_registry_follows_the_planned_order():
    assert set(provider_names()) >= {"gitea_actions", "github_actions", "gitlab_ci", "jenkins"}
    positions = [PLANNED_ORDER.index(name) for name in provider_names()]
    assert positions == sorted(positions)
    assert provider_names()[-1] == "jenkins"


def test_look_alikes_come_before_what_they_imitate():
    for imitator, imitated in LOOK_ALIKES.items():
        assert PLANNED_ORDER.index(imitator) < PLANNED_ORDER.index(imitated)


def test_every_provider_module_has_the_interface():
    assert provider_names() == PROVIDER_MODULES  # NAME is the module's name
    for provider in all_providers():
        assert callable(provider.detect) and callable(provider.read)


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"GITHUB_ACTIONS": "true", "JENKINS_URL": "http://stale-jenkins/"}, "github_actions"),  # a stale JENKINS_URL loses
        ({"GITEA_ACTIONS": "true", "GITHUB_ACTIONS": "true"}, "gitea_actions"),
        ({"GITLAB_CI": "true", "JENKINS_URL": "http://jenkins/"}, "gitlab_ci"),
        ({"GITHUB_ACTION": "__run_2"}, "github_actions"),
        ({"JENKINS_URL": "http://jenkins/"}, "jenkins"),
        ({"HARNESS_BUILD_ID": "7", "DRONE": "true"}, "harness"),  # Harness sets Drone's marker too
        ({"DRONE": "true"}, "drone"),
        ({"CI": "woodpecker", "DRONE": "true"}, "woodpecker"),
        ({"CI": "Woodpecker"}, "woodpecker"),
        ({"GITHUB_ACTIONS": "false", "JENKINS_URL": "http://jenkins/"}, "jenkins"),
        ({"GITEA_ACTIONS": "", "GITHUB_ACTIONS": "true"}, "github_actions"),
        ({"GITLAB_CI": "  ", "JENKINS_URL": "http://jenkins/"}, "jenkins"),
        ({"GITLAB_CI": "FALSE"}, None),
        ({"GITHUB_ACTIONS": "$(GITHUB_ACTIONS)"}, None),
        ({"JENKINS_URL": "${JENKINS_URL}"}, None),
        ({}, None),
    ],
)
def test_first_match_wins_and_unset_values_do_not_match(detect, env, expected):
    ctx, _ = detect(env)
    assert ctx.ci_name == expected
    assert ctx.is_ci is (expected is not None)


@pytest.mark.parametrize(
    "env, is_ci",
    [
        ({"CI": "true"}, True),
        ({"CI": "1"}, True),
        ({"CI": "buildbot"}, True),  # a CI shipmark does not know still counts as CI
        ({"CI": "false"}, False),
        ({"CI": "False "}, False),
        ({"CI": ""}, False),
    ],
)
def test_ci_variable_alone_only_sets_is_ci(detect, env, is_ci):
    ctx, _ = detect(env)
    assert ctx.ci_name is None
    assert ctx.is_ci is is_ci


def test_ci_false_never_vetoes_a_provider(detect):
    ctx, _ = detect({"CI": "false", "GITLAB_CI": "true"})
    assert (ctx.ci_name, ctx.is_ci) == ("gitlab_ci", True)
