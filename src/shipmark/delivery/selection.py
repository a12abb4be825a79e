"""Which targets an operation goes to, and building each one with its HTTP client."""
from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

from shipmark.delivery.jobs import Options
from shipmark.errors import UsageError
from shipmark.operations import words
from shipmark.output import Console
from shipmark.targets import target_class
from shipmark.targets.base import Target, TargetConfig


def select_targets(targets: Dict[str, TargetConfig], operation: str,
                   names: Sequence[str]) -> List[Tuple[TargetConfig, bool]]:
    """(config, explicit) for each target an operation goes to.

    Named targets (-t, repeatable or comma-separated, case-insensitive) are explicit:
    an operation they cannot do is an error. Otherwise every target whose backend
    has the operation; none at all is an error only when some targets exist.
    """
    if names:
        lookup = {name.lower(): name for name in targets}
        chosen = []
        for part in (p.strip() for name in names for p in name.split(",")):
            if not part:
                continue
            real = lookup.get(part.lower())
            if real is None:
                known = ", ".join(targets) or "none configured"
                raise UsageError(f"--target {part!r}: no such target (configured: {known})")
            chosen.append((targets[real], True))
        return chosen
    chosen = [(cfg, False) for cfg in targets.values() if target_class(cfg.type).supports(operation)]
    if targets and not chosen:
        raise UsageError(f"no configured target supports {words(operation)} "
                         f"(configured: {', '.join(f'{n} ({c.type})' for n, c in targets.items())})")
    return chosen


def build_target(config: TargetConfig, options: Options, console: Console, budget) -> Target:
    """The backend for one target, with an HTTP client inside the command's budget
    (or the target's own ``timeout`` when the command sets none)."""
    from shipmark.http import Budget, HttpClient  # requests: only once something is sent

    cls = target_class(config.type)
    http_kw = cls.http_options(config)
    own_budget = Budget(config.timeout) if config.timeout and options.timeout is None else budget
    read_timeout = min(15.0, own_budget.seconds)
    http = HttpClient(
        target=config.name,
        budget=own_budget,
        read_timeout=read_timeout,
        dry_run=options.dry_run,
        log=console.debug,
        show_request=lambda text: console.info(f"[dry-run] {config.name}: {text}"),
        **http_kw,
    )
    return cls(config, http)
