"""The shipmark command line: parse, call the app layer (shipmark.app), render (shipmark.render).

One module per command group; the options they share are in ``options``. Heavy
modules (requests, the backends' pydantic models, yaml) are imported inside the
commands so `shipmark --version` stays fast.
"""
from __future__ import annotations

from shipmark.cli import build, check, context, deploy, flush, release, targets
from shipmark.cli.group import cli, main

for _command in (context.context_cmd, deploy.deploy_cmd, deploy.deployment_group, release.release_group,
                 build.build_group, targets.targets_cmd, check.check_cmd, flush.flush_cmd):
    cli.add_command(_command)

__all__ = ["cli", "main"]

if __name__ == "__main__":  # pragma: no cover
    main()
