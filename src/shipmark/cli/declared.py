"""Options that backends declare for themselves (shipmark.targets.CliOption), on the commands they name.

A BackendOptionsCommand lists them in --help after its own options, and parses them
into one ``declared`` mapping {CliOption: value}, holding only the options given.
Finding them imports every registered backend, so it is done only when needed: for
help, completion, or when the arguments hold an option the command does not know
itself. `shipmark deploy -e prod` so never imports a backend it does not use.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

import click
from click.core import ParameterSource

DECLARED = "declared"  # the callback's keyword for the {CliOption: value} of the options given


class SharedOption(click.Option):
    """An option of the shared sets (shipmark.cli.options): declared options go before these."""


class BackendOptionsCommand(click.Command):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._made: Dict[Any, click.Option] = {}
        self._lean = False  # parsing arguments that name no declared option

    # -- which parameters ------------------------------------------------------------
    def get_params(self, ctx: click.Context) -> List[click.Parameter]:
        params = super().get_params(ctx)
        if self._lean:
            return params
        known = {opt for param in params for opt in (*param.opts, *param.secondary_opts)}
        names = {param.name for param in params}
        extra = [self._option(declared) for declared in self._declarations(ctx)
                 if declared.flag not in known and declared.name not in names | {DECLARED}]
        at = next((i for i, param in enumerate(params) if isinstance(param, SharedOption)), len(params))
        return params[:at] + extra + params[at:]

    def _declarations(self, ctx: click.Context) -> List[Any]:
        from shipmark.targets import cli_options

        return cli_options(" ".join(ctx.command_path.split()[1:]))

    def _option(self, declared: Any) -> click.Option:
        if declared not in self._made:
            self._made[declared] = click.Option([declared.flag], is_flag=declared.is_flag,
                                                metavar=declared.metavar, help=declared.help)
        return self._made[declared]

    # -- parsing -------------------------------------------------------------------
    def parse_args(self, ctx: click.Context, args: List[str]) -> List[str]:
        self._lean = not self._needs_declared(ctx, args)
        try:
            return super().parse_args(ctx, args)
        finally:
            self._lean = False

    def _needs_declared(self, ctx: click.Context, args: Sequence[str]) -> bool:
        """Help, or an option-like argument this command does not know itself."""
        params = click.Command.get_params(self, ctx)
        known = {opt for param in params for opt in (*param.opts, *param.secondary_opts)}
        for arg in args:
            if arg == "--":
                break
            if not arg.startswith("-") or arg == "-":
                continue
            name = arg.partition("=")[0] if arg.startswith("--") else arg
            if name in ctx.help_option_names or name not in known:
                return True
        return False

    def invoke(self, ctx: click.Context) -> Any:
        """The callback gets ``declared``: {CliOption: value} of the declared options given."""
        given: Dict[Any, Any] = {}
        for declared, option in list(self._made.items()):
            if option.name in ctx.params:
                value = ctx.params.pop(option.name)
                if ctx.get_parameter_source(option.name) == ParameterSource.COMMANDLINE:
                    given[declared] = value
        ctx.params[DECLARED] = given
        return super().invoke(ctx)


def declared_values(o: Dict[str, Any]) -> Optional[Dict[Any, Any]]:
    """Take the declared options' values out of a callback's keyword arguments."""
    return o.pop(DECLARED, None)
