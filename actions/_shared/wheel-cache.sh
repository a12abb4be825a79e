#!/usr/bin/env bash
# The key step of the shipmark actions' wheel cache (GitHub's hashFiles() cannot see the
# action's own files, so the key is computed here): writes `key` and `dir` to the step's
# outputs; `dir` is empty when the cache would not be used (uv installs without it), and
# then the action skips its actions/cache step.
#
# The cache holds wheels only, never a virtualenv: install.sh re-hashes every wheel against
# the lock in this checkout, so whatever a restored cache contains cannot be installed
# unless it is exactly what the lock names.
set -euo pipefail

fail() {
  # No key, no cache: the run step reports what is wrong (e.g. no python3).
  printf 'shipmark: no wheel cache: %s\n' "$1"
  exit 0
}

# shellcheck source=actions/_shared/install.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/install.sh"

# Restore at most once per job, before its first install: a later restore could write into
# the virtualenv this job already built and checked.
[ -z "${SHIPMARK_ACTION_JOB_NONCE:-}" ] || fail "this job has already installed shipmark"
action_uses_pip || fail "uv installs from the index"
[ -n "${RUNNER_TEMP:-}" ] || fail "RUNNER_TEMP is not set"
python="$(action_python)"
[ -n "${python}" ] || fail "no python3 on PATH"
key="$(shipmark_cache_key "${python}" "${action_lock}" "${action_source}")" || fail "${python} cannot run"
echo "shipmark: wheel cache key ${key}"
{
  echo "key=${key}"
  echo "dir=${RUNNER_TEMP}/shipmark-wheels"
} >>"${GITHUB_OUTPUT}"
