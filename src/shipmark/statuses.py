"""The words `--status` accepts: shipmark's six statuses and the CI systems' own words for them.

A pipeline can pass its job's result straight through: GitLab's $CI_JOB_STATUS
(https://docs.gitlab.com/ee/ci/variables/predefined_variables.html), Jenkins'
currentBuild.currentResult (https://javadoc.jenkins.io/hudson/model/Result.html),
Azure Pipelines' Agent.JobStatus
(https://learn.microsoft.com/azure/devops/pipelines/build/variables#agent-variables)
or GitHub's job.status (https://docs.github.com/actions/learn-github-actions/contexts#job-context).
Matching ignores case. This table is the one place the words are mapped; the
command reference (docs/cli.md) is generated from it.
"""
from __future__ import annotations

from typing import Dict, List, Tuple

from shipmark.models import Status

# word (lower case) -> (shipmark status, who says it)
WORDS: Dict[str, Tuple[Status, str]] = {
    "queued": (Status.QUEUED, "shipmark"),
    "in_progress": (Status.IN_PROGRESS, "shipmark"),
    "success": (Status.SUCCESS, "shipmark, GitLab, Jenkins, GitHub Actions"),
    "failure": (Status.FAILURE, "shipmark, Jenkins, GitHub Actions"),
    "cancelled": (Status.CANCELLED, "shipmark, GitHub Actions"),
    "skipped": (Status.SKIPPED, "shipmark, GitLab"),
    "pending": (Status.QUEUED, "GitLab"),
    "created": (Status.QUEUED, "GitLab"),
    "running": (Status.IN_PROGRESS, "GitLab"),
    "failed": (Status.FAILURE, "GitLab, Azure Pipelines"),
    "canceled": (Status.CANCELLED, "GitLab, Azure Pipelines"),
    "canceling": (Status.CANCELLED, "GitLab"),
    "unstable": (Status.SUCCESS, "Jenkins (tests failed, build usable)"),
    "aborted": (Status.CANCELLED, "Jenkins"),
    "not_built": (Status.SKIPPED, "Jenkins"),
    "succeeded": (Status.SUCCESS, "Azure Pipelines"),
    "succeededwithissues": (Status.SUCCESS, "Azure Pipelines (warnings)"),
}


def status_of(word: str) -> Status:
    """The status a word names, in any case; ValueError when it names none."""
    try:
        return WORDS[word.strip().lower()][0]
    except KeyError:
        raise ValueError(word) from None


def own_words(*, final_only: bool = False) -> List[str]:
    """shipmark's own status words (only the final ones, for `deployment finish`)."""
    return [s.value for s in Status if s.is_final or not final_only]


def markdown_table() -> str:
    """The table for the docs: every accepted word, its status and who uses it."""
    lines = ["| `--status` word (any case) | recorded as | used by |", "| --- | --- | --- |"]
    lines += [f"| `{word}` | `{status.value}` | {who} |" for word, (status, who) in WORDS.items()]
    return "\n".join(lines)
