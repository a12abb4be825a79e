#!/usr/bin/env bash
# Shared body of the shipmark GitHub Actions (action.yml, actions/deploy|release|build).
#
# 1. Installs shipmark from this action's own checkout into a private virtualenv under the
#    runner's tool cache, reused while the version and source digest stay the same.
# 2. Runs one shipmark command built from SHIPMARK_WRAP_* variables.
#
# Every input arrives as an environment variable and is only ever used as quoted data:
# nothing here evaluates it. shipmark itself writes $GITHUB_OUTPUT, the job summary,
# ::add-mask:: lines and annotations.
#
# Inputs (all optional except the command):
#   SHIPMARK_WRAP_COMMAND        subcommand words, e.g. "deploy" or "deployment start"
#   SHIPMARK_WRAP_PHASE          deploy action only: record|start|finish (overrides COMMAND)
#   SHIPMARK_WRAP_ARGS           extra arguments, split like a shell would (quotes honoured)
#                                but never evaluated
#   SHIPMARK_WRAP_TARGETS        target names, separated by commas, spaces or newlines
#   SHIPMARK_WRAP_HOSTS          host names, same separators
#   SHIPMARK_WRAP_META           KEY=VALUE pairs, one per line
#   SHIPMARK_WRAP_STATUS, SHIPMARK_WRAP_NAME
#   SHIPMARK_WRAP_ENVIRONMENT, SHIPMARK_WRAP_VERSION, SHIPMARK_WRAP_CONFIG
#                                exported as SHIPMARK_ENVIRONMENT/_VERSION/_CONFIG when set
#   SHIPMARK_WRAP_FAIL_ON_ERROR  true|false
#   SHIPMARK_WRAP_PYTHON         interpreter for the virtualenv (default: python3 on PATH)
#   SHIPMARK_ACTION_CACHE        where virtualenvs live (default: $RUNNER_TOOL_CACHE/shipmark-action)
set -euo pipefail

fail() {
  printf '::error title=shipmark action::%s\n' "$1"
  exit 2
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source_dir="$(cd "${here}/../.." && pwd)"
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
  bin_dir="${venv}/bin"
  if [ -d "${venv}/Scripts" ]; then bin_dir="${venv}/Scripts"; fi
  shipmark="${bin_dir}/shipmark"
}

# Can the interpreter's own pip install into another environment (pip >= 22.3: --python)?
host_pip_can_target() {
  local major minor
  read -r major minor < <("${python}" -m pip --version 2>/dev/null |
    sed -n 's/^pip \([0-9]*\)\.\([0-9]*\).*/\1 \2/p') || return 1
  [ "${major}" -gt 22 ] || { [ "${major}" -eq 22 ] && [ "${minor}" -ge 3 ]; }
}

installed() {
  local reported
  [ -f "${venv}/.shipmark-installed" ] || return 1
  reported="$("${shipmark}" --version 2>/dev/null)" || return 1
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
    if host_pip_can_target; then
      # Every hosted job starts with an empty tool cache, so this runs once per job: a
      # virtualenv without its own pip (no ensurepip, about 2.5 s less), filled by the
      # interpreter's pip through --python.
      "${python}" -m venv --without-pip "${venv}" || fail "could not create a virtualenv with ${python}"
      set_bin_dir
      "${python}" -m pip --python "${bin_dir}/python" "${pip_options[@]}" ||
        fail "pip could not install shipmark from ${source_dir}"
    else
      "${python}" -m venv "${venv}" || fail "could not create a virtualenv with ${python}"
      set_bin_dir
      "${bin_dir}/python" -m pip "${pip_options[@]}" || fail "pip could not install shipmark from ${source_dir}"
    fi
    touch "${venv}/.shipmark-installed"
  fi
  rm -rf "${lock}"
  trap - EXIT
fi

# --- argv --------------------------------------------------------------------------------
# split_list VALUE: words separated by commas or whitespace, one per line, no globbing.
split_list() {
  printf '%s\n' "$1" | tr -s ', \t' '\n' | sed '/^$/d'
}

command_words="${SHIPMARK_WRAP_COMMAND:-deploy}"
case "${SHIPMARK_WRAP_PHASE:-}" in
  "") ;;
  record) command_words="deploy" ;;
  start) command_words="deployment start" ;;
  finish) command_words="deployment finish" ;;
  *) fail "phase must be record, start or finish, not '${SHIPMARK_WRAP_PHASE}'" ;;
esac

argv=()
while IFS= read -r word; do
  [[ "${word}" =~ ^[a-z][a-z-]*$ ]] || fail "command must be shipmark subcommand words (e.g. 'deploy', 'release create'); put options in args"
  argv+=("${word}")
done < <(split_list "${command_words}")
[ "${#argv[@]}" -gt 0 ] || fail "command is empty"

if [ -n "${SHIPMARK_WRAP_STATUS:-}" ]; then argv+=(--status "${SHIPMARK_WRAP_STATUS}"); fi
if [ -n "${SHIPMARK_WRAP_NAME:-}" ]; then argv+=(--name "${SHIPMARK_WRAP_NAME}"); fi
while IFS= read -r item; do argv+=(--target "${item}"); done < <(split_list "${SHIPMARK_WRAP_TARGETS:-}")
while IFS= read -r item; do argv+=(--host "${item}"); done < <(split_list "${SHIPMARK_WRAP_HOSTS:-}")
while IFS= read -r item; do
  if [ -n "${item}" ]; then argv+=(--meta "${item}"); fi
done <<<"${SHIPMARK_WRAP_META:-}"

if [ -n "${SHIPMARK_WRAP_ARGS:-}" ]; then
  # Shell-like splitting by Python's shlex: quotes are honoured, nothing is expanded or run.
  parsed="$(mktemp)"
  "${bin_dir}/python" -c '
import shlex, sys
sys.stdout.write("".join(arg + "\0" for arg in shlex.split(sys.argv[1])))
' "${SHIPMARK_WRAP_ARGS}" >"${parsed}" || fail "args could not be split (unbalanced quotes?)"
  while IFS= read -r -d '' item; do argv+=("${item}"); done <"${parsed}"
  rm -f "${parsed}"
fi

# --- environment -------------------------------------------------------------------------
if [ -n "${SHIPMARK_WRAP_ENVIRONMENT:-}" ]; then export SHIPMARK_ENVIRONMENT="${SHIPMARK_WRAP_ENVIRONMENT}"; fi
if [ -n "${SHIPMARK_WRAP_VERSION:-}" ]; then export SHIPMARK_VERSION="${SHIPMARK_WRAP_VERSION}"; fi
if [ -n "${SHIPMARK_WRAP_CONFIG:-}" ]; then export SHIPMARK_CONFIG="${SHIPMARK_WRAP_CONFIG}"; fi
case "${SHIPMARK_WRAP_FAIL_ON_ERROR:-false}" in
  true) export SHIPMARK_FAIL_ON_ERROR=true ;;
  false | "") ;;
  *) fail "fail-on-error must be true or false" ;;
esac

# The command line holds no secrets (they come from env or config), so it is safe to show;
# %q keeps every argument on this one line, so no argument can start a workflow command.
printf 'shipmark'
printf ' %q' "${argv[@]}"
printf '\n'
exec "${shipmark}" "${argv[@]}"
