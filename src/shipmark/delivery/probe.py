"""`check --online`: one authenticated read per target, concurrently, inside one budget."""
from __future__ import annotations

from typing import Sequence, Tuple

from shipmark.delivery.jobs import Options
from shipmark.delivery.policy import Report
from shipmark.delivery.selection import build_target
from shipmark.errors import ApiError, ExitStatus, ShipmarkError
from shipmark.models import Result
from shipmark.output import Console
from shipmark.targets.base import TargetConfig


def probe_all(configs: Sequence[TargetConfig], options: Options, console: Console) -> Report:
    from concurrent.futures import ThreadPoolExecutor

    from shipmark.http import DEFAULT_BUDGET, Budget

    budget = Budget(options.timeout or DEFAULT_BUDGET)

    def probe(config: TargetConfig) -> Tuple[Result, ExitStatus]:
        target = build_target(config, options, console, budget)
        try:
            detail = target.probe()
            return Result(target=config.name, type=config.type, operation="check", message=detail), ExitStatus.OK
        except ShipmarkError as exc:
            code = ExitStatus.DELIVERY_FAILED if isinstance(exc, ApiError) else exc.exit_status
            return Result(target=config.name, type=config.type, operation="check", ok=False,
                          error=exc.message), code

    report = Report()
    if not configs:
        return report
    with ThreadPoolExecutor(max_workers=max(1, min(options.concurrency, len(configs)))) as pool:
        outcomes = list(pool.map(probe, configs))
    report.results = [result for result, _ in outcomes]
    report.exit_status = max((code for _, code in outcomes), default=ExitStatus.OK)
    return report
