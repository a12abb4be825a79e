"""The provider registry: table 2.1 order, first match wins (CI-ENV rule 1).

A provider is a module with ``NAME``, ``detect(env) -> bool`` (reads variables
only: no files, no git) and ``read(env, warn) -> ProviderFacts``.

To add a provider from table 2.1, write its module and insert it at its row's
position: look-alikes must stay ahead of what they imitate (Harness before
Drone, Gitea before GitHub) and Jenkins stays last (trap T29).
"""
from __future__ import annotations

from typing import Sequence

from ..env import Env
from . import gitea_actions, github_actions, gitlab_ci, jenkins

PROVIDERS: Sequence = (
    gitea_actions,
    github_actions,
    gitlab_ci,
    # harness, woodpecker, drone, vela, screwdriver, circleci, azure_pipelines, ...
    # (table 2.1 rows between gitlab_ci and jenkins) slot in here, in table order.
    jenkins,
)


def match_provider(env: Env):
    """The first provider whose detection matches, or None."""
    for provider in PROVIDERS:
        if provider.detect(env):
            return provider
    return None


def provider_names() -> Sequence[str]:
    return tuple(provider.NAME for provider in PROVIDERS)


__all__ = ["PROVIDERS", "match_provider", "provider_names"]
