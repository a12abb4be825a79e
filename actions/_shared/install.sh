#!/usr/bin/env bash
# The GitHub actions' side of shipmark's installer, sourced by run.sh (install and run) and
# wheel-cache.sh (the wheel cache's key). The installing itself is installer/install.sh,
# sourced from this action's own checkout: dependencies from the hash lock, shipmark from the
# checkout (SOURCE checkout:<action dir>), nothing built.
#
# Where the private virtualenv lives: $RUNNER_TEMP/shipmark/venv-<key>, fresh in every job
# (the runner empties RUNNER_TEMP before each job) and reused only by later steps of the same
# job. Nothing is kept in the runner's tool cache: on a persistent self-hosted runner any job
# could plant a virtualenv there for the next one to run. Without RUNNER_TEMP (a local run)
# the virtualenv goes into a temporary directory that run.sh removes when it ends.
#
#   SHIPMARK_WRAP_PYTHON       interpreter for the virtualenv (default: python3 on PATH)
#   SHIPMARK_WRAP_WHEEL_CACHE  directory of wheels the action's cache step restored (pip only)
#   SHIPMARK_INSTALLER         pip or uv (default: uv when on PATH, else pip)
# shellcheck shell=bash

action_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
action_lock="${action_dir}/installer/runtime-lock.txt"
action_source="checkout:${action_dir}"
# Followed when run.sh and wheel-cache.sh are checked with --external-sources.
# shellcheck source=installer/install.sh disable=SC1091
. "${action_dir}/installer/install.sh"

# The interpreter to build the virtualenv with; empty when there is none.
action_python() {
  local python="${SHIPMARK_WRAP_PYTHON:-}"
  if [ -z "${python}" ]; then
    python="$(command -v python3 || command -v python || true)"
  fi
  printf '%s' "${python}"
}

# Does this job install with pip (the only installer that uses the wheel cache)? uv installs
# the lock from the index in well under a second and keeps no cache we could verify.
action_uses_pip() {
  case "${SHIPMARK_INSTALLER:-}" in
    uv) return 1 ;;
    "") ! command -v uv >/dev/null 2>&1 ;;
    *) return 0 ;;
  esac
}

# The package index may be down or unreachable: that must not fail the user's workflow.
# Unless fail-on-error, a failed install is a warning and `ok=false`, and the step ends with
# exit status 0 having recorded nothing.
action_install_failed() {
  local wheels="${SHIPMARK_WRAP_WHEEL_CACHE:-}"
  rm -rf "${action_venv}"
  # A partial set of wheels must not be saved by the cache step at the end of the job.
  if [ -n "${wheels}" ] && [ -O "${wheels}" ]; then rm -rf "${wheels}"; fi
  if [ "${SHIPMARK_WRAP_FAIL_ON_ERROR:-false}" = true ]; then fail "$1"; fi
  printf '::warning title=shipmark action::%s; nothing was recorded (fail-on-error: true fails the step)\n' "$1"
  if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "ok=false" >>"${GITHUB_OUTPUT}"; fi
  exit 0
}

# Sets SHIPMARK_VENV_PYTHON: this job's virtualenv, installed now or by an earlier step.
# Sets action_scratch when it made a temporary directory (the caller removes it).
action_install() {
  local python key root
  [ -f "${action_lock}" ] || fail "shipmark's installer not found next to the action (${action_dir})"
  python="$(action_python)"
  [ -n "${python}" ] || fail "no python3 on PATH: set the python-version input"
  key="$(shipmark_cache_key "${python}" "${action_lock}" "${action_source}")" ||
    fail "${python} cannot run: set the python-version input"
  if [ -n "${RUNNER_TEMP:-}" ] && shipmark_private_dir "${RUNNER_TEMP}/shipmark"; then
    root="${RUNNER_TEMP}/shipmark"
  else
    action_scratch="$(mktemp -d)"
    root="${action_scratch}"
  fi
  action_venv="${root}/venv-${key}"
  # The stamp, written last, names the checkout the virtualenv runs shipmark from (a
  # virtualenv an earlier step left half-built, or made for another ref of the action, is
  # not reused) and this job's nonce, which the first install made up and handed to the
  # job's later steps only (GITHUB_ENV): a virtualenv planted with a stamp, say by a
  # restored cache archive (it can write anywhere the job can), never matches it.
  if [ -n "${SHIPMARK_ACTION_JOB_NONCE:-}" ] && [ "$(cat "${action_venv}/.shipmark-installed" 2>/dev/null)" \
    = "${action_source}|${SHIPMARK_ACTION_JOB_NONCE}" ]; then
    # shellcheck disable=SC2034 # run.sh runs it
    SHIPMARK_VENV_PYTHON="$(shipmark_venv_python "${action_venv}")"
    echo "shipmark: reusing this job's environment ${action_venv}"
    return
  fi
  # shipmark_installer: the installer install.sh chose (pip or uv), for the message.
  shipmark_install_env "${python}" "${action_venv}" "${action_lock}" "${action_source}" \
    "${SHIPMARK_WRAP_WHEEL_CACHE:-}" ||
    action_install_failed "${shipmark_installer:-pip} could not install shipmark from ${action_dir}"
  SHIPMARK_ACTION_JOB_NONCE="$("${python}" -I -c 'import secrets; print(secrets.token_hex(16))')" ||
    action_install_failed "${python} cannot make a random nonce"
  printf '%s' "${action_source}|${SHIPMARK_ACTION_JOB_NONCE}" >"${action_venv}/.shipmark-installed"
  if [ -n "${GITHUB_ENV:-}" ]; then echo "SHIPMARK_ACTION_JOB_NONCE=${SHIPMARK_ACTION_JOB_NONCE}" >>"${GITHUB_ENV}"; fi
}
