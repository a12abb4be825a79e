"""installer/install.sh itself, run where every wrapper runs it: in the user's checkout.

The checkout is not trusted code. Python puts the working directory first on the import
path of `python -`, `-c` and `-m`, and uv reads `uv.toml` from it, so the installer runs
every interpreter with `-I` and uv with `--no-config`: a checkout holding a `hashlib.py`, a
`venv/` or `pip/` package, or a uv config naming another index changes nothing.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from wrapper_support import REPO, clean_env, path_without_shipmark, run, tool

pytestmark = pytest.mark.wrappers

INSTALLER = REPO / "installer" / "install.sh"
LOCK = REPO / "installer" / "runtime-lock.txt"


def hostile_checkout(root: Path, marker: Path) -> Path:
    """A checkout whose modules would record that they ran, shadowing the standard library,
    pip and venv, plus a uv config that points at an index that does not exist."""
    root.mkdir()
    payload = f"import pathlib\npathlib.Path({str(marker)!r}).open('a').write(__name__ + '\\n')\n"
    (root / "hashlib.py").write_text(payload + "from _hashlib import *\n")
    (root / "sysconfig.py").write_text(payload)
    for package in ("pip", "venv"):
        (root / package).mkdir()
        (root / package / "__init__.py").write_text(payload)
        (root / package / "__main__.py").write_text(payload)
    (root / "uv.toml").write_text('index-url = "http://127.0.0.1:9/simple"\n')
    return root


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_the_checkout_cannot_run_code_in_the_install(tmp_path, installer):
    marker = tmp_path / "ran"
    checkout = hostile_checkout(tmp_path / "checkout", marker)
    path = path_without_shipmark(tmp_path)
    if installer == "uv":
        uv_bin = tmp_path / "uv-bin"
        uv_bin.mkdir()
        (uv_bin / "uv").symlink_to(tool("uv"))
        path = f"{uv_bin}{os.pathsep}{path}"
    env = clean_env(PATH=path, SHIPMARK_INSTALLER=installer, PIP_NO_CACHE_DIR="1",
                    UV_CACHE_DIR=str(tmp_path / "uv-cache"))
    script = (f'. "{INSTALLER}"\n'
              f'shipmark_cache_key python3 "{LOCK}" checkout:x >/dev/null || exit 3\n'
              f'shipmark_install_env python3 "{tmp_path}/venv" "{LOCK}" "checkout:{REPO}" "{tmp_path}/wheels" || exit 4\n'
              '"$SHIPMARK_VENV_PYTHON" -I -m shipmark --version\n')
    proc = run(["sh", "-c", script], cwd=checkout, env=env, check=False)
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert proc.stdout.strip().splitlines()[-1].startswith("shipmark "), proc.stdout
    assert not marker.exists(), f"the checkout's modules ran: {marker.read_text()}"
    assert shutil.which("python3", path=path)


def test_credentials_in_a_package_url_never_reach_the_log(tmp_path):
    """A `package` URL may carry a token (a private index, a git URL): the log hides it."""
    script = (f'. "{INSTALLER}"\n'
              'shipmark_shown "git+https://oauth2:s3cr3t-token@gitlab.example.com/acme/shipmark.git"\n'
              'shipmark_shown "https://__token__:s3cr3t-token@pkgs.example.com/shipmark-1.0-py3-none-any.whl"\n'
              'shipmark_shown "./vendor/shipmark-1.0-py3-none-any.whl"\n')
    proc = run(["sh", "-c", script], cwd=tmp_path, env=clean_env())
    assert proc.stdout.splitlines() == [
        "git+https://***@gitlab.example.com/acme/shipmark.git",
        "https://***@pkgs.example.com/shipmark-1.0-py3-none-any.whl",
        "./vendor/shipmark-1.0-py3-none-any.whl"]
