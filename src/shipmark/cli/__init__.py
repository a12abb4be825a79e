"""The shipmark command line: parse, call the app layer (shipmark.app), render (shipmark.render).

One module per command group; the options they share are in ``options``. Heavy
modules (requests, the backends' pydantic models, yaml) are imported inside the
commands so `shipmark --version` stays fast.
"""
from __future__ import annotations

from shipmark.cli.group import cli, main

# Each command's module is imported when the command is used (or help lists it).
cli.lazy.update({
    "context": "shipmark.cli.context:context_cmd",
    "deploy": "shipmark.cli.deploy:deploy_cmd",
    "deployment": "shipmark.cli.deploy:deployment_group",
    "release": "shipmark.cli.release:release_group",
    "build": "shipmark.cli.build:build_group",
    "targets": "shipmark.cli.targets:targets_cmd",
    "check": "shipmark.cli.check:check_cmd",
    "flush": "shipmark.cli.flush:flush_cmd",
})

__all__ = ["cli", "main"]

if __name__ == "__main__":  # pragma: no cover
    main()
