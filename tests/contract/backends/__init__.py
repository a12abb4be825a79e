"""Every backend the contract test covers: one data module each, one line here."""
from __future__ import annotations

from tests.contract.backends import aviator, beanstalk, buildmaster, deploybot, github, releasebits

BACKENDS = (
    releasebits.BACKEND,
    deploybot.BACKEND,
    buildmaster.BACKEND,
    beanstalk.BACKEND,
    aviator.BACKEND,
    github.BACKEND,
)
