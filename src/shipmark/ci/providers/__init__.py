"""The provider registry: providers are tried in order and the first match wins.

A provider is a module of this package with ``NAME`` (its ``ci_name``, equal to
the module name), ``detect(env) -> bool`` (reads variables only: no files, no
git) and ``read(env, warn) -> ProviderFacts``. Adding one is its module plus one
line below. A provider that can tell a fork's pull request apart also has
``foreign_code(env) -> Optional[str]`` (see shipmark.ci.trust).

The order matters because CI systems imitate each other's variables. A
look-alike goes before what it imitates: Gitea Actions exports GitHub's
``GITHUB_ACTIONS``, Harness exports Drone's ``DRONE_*``. Jenkins goes last:
``JENKINS_URL`` is often left behind on machines reused by other CI systems,
so it only counts when nothing more specific matched.
"""
from __future__ import annotations

from importlib import import_module
from typing import Sequence

from ..env import Env

PROVIDER_MODULES = (
    "gitea_actions",  # before github_actions: Gitea also sets GITHUB_ACTIONS
    "github_actions",
    "gitlab_ci",
    "harness",  # before drone: Harness also sets DRONE_*
    "woodpecker",
    "drone",
    "vela",
    "screwdriver",
    "circleci",
    "azure_pipelines",
    "bitbucket_pipelines",
    "buildkite",
    "travis_ci",
    "teamcity",
    "bamboo",
    "aws_codebuild",
    "google_cloud_build",
    "semaphore",
    "appveyor",
    "codefresh",
    "bitrise",
    "cirrus_ci",
    "buddy",
    "heroku",
    "netlify",
    "vercel",
    "cloudflare_pages",
    "codeship",
    "jetbrains_space",
    "wercker",
    "jenkins",  # last: a stale JENKINS_URL must not hide the real CI
)


def _provider(name: str):
    return import_module(f"{__name__}.{name}")


def match_provider(env: Env):
    """The first provider whose detection matches, or None.

    Modules are imported one by one as they are tried, so a job on a provider
    early in the order never loads the rest.
    """
    for name in PROVIDER_MODULES:
        provider = _provider(name)
        if provider.detect(env):
            return provider
    return None


def all_providers() -> Sequence:
    """Every provider module, in matching order."""
    return tuple(_provider(name) for name in PROVIDER_MODULES)


def provider_names() -> Sequence[str]:
    return tuple(provider.NAME for provider in all_providers())


__all__ = ["PROVIDER_MODULES", "all_providers", "match_provider", "provider_names"]
