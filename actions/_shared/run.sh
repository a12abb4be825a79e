#!/usr/bin/env bash
# Shared body of the shipmark GitHub Actions (action.yml, actions/deploy|release|build):
# install shipmark (install.sh: this job's private virtualenv), then run shipmark.wrap from
# it, which builds shipmark's command line from the SHIPMARK_WRAP_* variables the action's
# `env:` sets (the rule is documented in src/shipmark/wrap.py and docs/wrappers.md) and
# runs it.
#
# Every input arrives as an environment variable and is only ever used as data: nothing
# here or in shipmark-wrap evaluates it. shipmark itself writes $GITHUB_OUTPUT, the job
# summary, ::add-mask:: lines and annotations.
#
# Handled here, because only the actions have them:
#   SHIPMARK_WRAP_COMMAND  default `deploy` when the input is empty
#   SHIPMARK_WRAP_PHASE    deploy action only: record|start|finish (overrides COMMAND)
set -euo pipefail

fail() {
  # Workflow-command data escaping (%, CR, LF): the message stays one annotation line.
  local message="${1//%/%25}"
  message="${message//$'\r'/%0D}"
  printf '::error title=shipmark action::%s\n' "${message//$'\n'/%0A}"
  exit 2
}

# shellcheck source=actions/_shared/install.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/install.sh"

SHIPMARK_WRAP_COMMAND="${SHIPMARK_WRAP_COMMAND:-deploy}"
case "${SHIPMARK_WRAP_PHASE:-}" in
  "") ;;
  record) SHIPMARK_WRAP_COMMAND="deploy" ;;
  start) SHIPMARK_WRAP_COMMAND="deployment start" ;;
  finish) SHIPMARK_WRAP_COMMAND="deployment finish" ;;
  *) fail "phase must be record, start or finish" ;;
esac
export SHIPMARK_WRAP_COMMAND

action_scratch=""
trap 'if [ -n "${action_scratch}" ]; then rm -rf "${action_scratch}"; fi' EXIT
action_install
# Not exec: a local run's temporary virtualenv is removed when shipmark is done.
# -I (isolated): the working directory, a checkout of who knows what, must not be able to
# shadow shipmark with a shipmark/ folder of its own (plain -m puts it first on sys.path).
"${SHIPMARK_VENV_PYTHON}" -I -m shipmark.wrap
