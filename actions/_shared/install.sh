#!/usr/bin/env bash
# The install step of the shipmark GitHub Actions, sourced by run.sh (the only place that
# installs shipmark for them).
#
# Installs shipmark from this action's own checkout into a private virtualenv under the
# runner's tool cache, reused while the version, the source digest and the interpreter stay
# the same, and sets `shipmark_bin_dir` to the virtualenv's scripts directory. Uses the
# caller's fail().
#
#   SHIPMARK_WRAP_PYTHON   interpreter for the virtualenv (default: python3 on PATH)
#   SHIPMARK_ACTION_CACHE  where virtualenvs live (default: $RUNNER_TOOL_CACHE/shipmark-action)
# shellcheck shell=bash

install_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source_dir="$(cd "${install_here}/../.." && pwd)"
[ -f "${source_dir}/pyproject.toml" ] || fail "shipmark sources not found next to the action (${source_dir})"

# --- interpreter -------------------------------------------------------------------------
python="${SHIPMARK_WRAP_PYTHON:-}"
if [ -z "${python}" ]; then
  python="$(command -v python3 || command -v python || true)"
fi
[ -n "${python}" ] || fail "no python3 on PATH: set the python-version input"

# --- private virtualenv, keyed by version, source digest and interpreter ------------------
version="$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "${source_dir}/src/shipmark/__init__.py")"
[ -n "${version}" ] || fail "cannot read shipmark's version from src/shipmark/__init__.py"
key="$("${python}" - "${source_dir}" <<'PY'
import hashlib, pathlib, sys
root = pathlib.Path(sys.argv[1])
digest = hashlib.sha256()
for path in sorted([root / "pyproject.toml", *(root / "src").rglob("*.py")]):
    digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
digest.update(sys.executable.encode())
print("py%d.%d-%s" % (sys.version_info[0], sys.version_info[1], digest.hexdigest()[:12]))
PY
)"
cache_dir="${SHIPMARK_ACTION_CACHE:-${RUNNER_TOOL_CACHE:-${HOME}/.cache}/shipmark-action}"
venv="${cache_dir}/${version}/${key}"

set_bin_dir() {
  shipmark_bin_dir="${venv}/bin"
  if [ -d "${venv}/Scripts" ]; then shipmark_bin_dir="${venv}/Scripts"; fi
}

# Can the interpreter's own pip install into another environment (pip >= 22.3: --python)?
host_pip_can_target() {
  local major minor
  read -r major minor < <("${python}" -m pip --version 2>/dev/null |
    sed -n 's/^pip \([0-9]*\)\.\([0-9]*\).*/\1 \2/p') || return 1
  [ "${major}" -gt 22 ] || { [ "${major}" -eq 22 ] && [ "${minor}" -ge 3 ]; }
}

# The package index (for shipmark's build backend and dependencies) may be down or
# unreachable: that must not fail the user's workflow. Unless fail-on-error, a failed install
# is a warning and `ok=false`, and the step ends with exit status 0 having recorded nothing.
install_failed() {
  rm -rf "${venv}" "${lock}"
  if [ "${SHIPMARK_WRAP_FAIL_ON_ERROR:-false}" = true ]; then fail "$1"; fi
  printf '::warning title=shipmark action::%s; nothing was recorded (fail-on-error: true fails the step)\n' "$1"
  if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "ok=false" >>"${GITHUB_OUTPUT}"; fi
  exit 0
}

installed() {
  local reported
  [ -f "${venv}/.shipmark-installed" ] || return 1
  reported="$("${shipmark_bin_dir}/shipmark" --version 2>/dev/null)" || return 1
  [[ "${reported}" == *"${version}"* ]]
}

set_bin_dir

if installed; then
  echo "shipmark ${version}: reusing ${venv}"
else
  mkdir -p "${cache_dir}"
  # One installer at a time per version (several runners may share a tool cache).
  lock="${venv}.lock"
  mkdir -p "$(dirname "${lock}")"
  waited=0
  until mkdir "${lock}" 2>/dev/null; do
    # A lock older than 10 minutes was left by a cancelled job: take it over.
    if [ -n "$(find "${lock}" -maxdepth 0 -mmin +10 2>/dev/null)" ]; then rm -rf "${lock}"; continue; fi
    [ "${waited}" -lt 300 ] || fail "timed out waiting for ${lock}"
    sleep 1
    waited=$((waited + 1))
  done
  trap 'rm -rf "${lock}"' EXIT
  if ! installed; then
    echo "shipmark ${version}: installing into ${venv}"
    rm -rf "${venv}"
    pip_options=(install --quiet --disable-pip-version-check --no-input "${source_dir}")
    if command -v uv >/dev/null 2>&1; then
      # uv when the runner has it: it builds and installs in a fraction of pip's time.
      "${python}" -m venv --without-pip "${venv}" || fail "could not create a virtualenv with ${python}"
      set_bin_dir
      # uv reads UV_* settings only: hand it pip's index (a mirror) unless uv has its own.
      uv_options=(--quiet --python "${shipmark_bin_dir}/python")
      if [ -n "${PIP_INDEX_URL:-}" ] && [ -z "${UV_INDEX_URL:-}${UV_DEFAULT_INDEX:-}" ]; then
        uv_options+=(--index-url "${PIP_INDEX_URL}")
      fi
      uv pip install "${uv_options[@]}" "${source_dir}" ||
        install_failed "uv could not install shipmark from ${source_dir}"
    elif host_pip_can_target; then
      # Every hosted job starts with an empty tool cache, so this runs once per job: a
      # virtualenv without its own pip (no ensurepip, about 2.5 s less), filled by the
      # interpreter's pip through --python.
      "${python}" -m venv --without-pip "${venv}" || fail "could not create a virtualenv with ${python}"
      set_bin_dir
      "${python}" -m pip --python "${shipmark_bin_dir}/python" "${pip_options[@]}" ||
        install_failed "pip could not install shipmark from ${source_dir}"
    else
      "${python}" -m venv "${venv}" || fail "could not create a virtualenv with ${python}"
      set_bin_dir
      "${shipmark_bin_dir}/python" -m pip "${pip_options[@]}" ||
        install_failed "pip could not install shipmark from ${source_dir}"
    fi
    touch "${venv}/.shipmark-installed"
  fi
  rm -rf "${lock}"
  trap - EXIT
fi
