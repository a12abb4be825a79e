"""Write the command reference (docs/cli.md) from the click commands themselves.

    python -m shipmark.cli.docs            # rewrite docs/cli.md
    python -m shipmark.cli.docs --check    # exit 1 when docs/cli.md is not current

Each command's section is exactly its `--help` at a 100-column terminal, so the
reference cannot say something the CLI does not; the status words come from
shipmark.statuses, the one table of them.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import click

WIDTH = 98  # what click lays out in a terminal of 100 columns or more (max_content_width 100, less 2)
DEFAULT_PATH = Path(__file__).resolve().parents[3] / "docs" / "cli.md"

INTRO = """\
# Command reference

Generated from the command definitions by `python -m shipmark.cli.docs`; do not edit by hand
(a test fails when this file is not current). Every section is what `shipmark ... --help` prints.

## Output for scripts: `--json`

With `--json`, the event commands (`deploy`, `deployment ...`, `release ...`, `build ...`, `check`,
`flush` and the lists) print exactly one JSON array on stdout, whatever happened: one result object
per target, operation and host, or, when the command failed before any target ran (a usage or config
error, no target configured), one object with `"ok": false`, `"target": null` and the `error`.
Human-readable lines stay on stderr. `shipmark context --json` prints the context object and
`shipmark targets --json` the list of targets; on an error both print `{"ok": false, "error": "..."}`.

The result objects are described by the JSON Schema [`schema/result.schema.json`](schema/result.schema.json)
(draft 2020-12), which lists every field shipmark prints. **Stability:** fields are only ever added,
never removed, renamed or given another type; a script should ignore fields it does not know.

## Status words

`--status` takes shipmark's six statuses or the word a CI system uses for its job's result, in any
case, so a pipeline can pass `$CI_JOB_STATUS` (GitLab), `currentBuild.currentResult` (Jenkins),
`$AGENT_JOBSTATUS` (Azure Pipelines) or `${{ job.status }}` (GitHub Actions) straight through.
`deployment finish` takes only words for a final status.

"""


def walk(command: click.Command, ctx: click.Context) -> Iterator[Tuple[click.Command, click.Context]]:
    """Every command and group under ``command``, depth first, each with its own context."""
    yield command, ctx
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from walk(sub, click.Context(sub, info_name=name, parent=ctx))


def render() -> str:
    from shipmark.cli import cli
    from shipmark.statuses import markdown_table

    root = click.Context(cli, info_name="shipmark", terminal_width=WIDTH, **cli.context_settings)
    sections: List[str] = []
    contents: List[str] = []
    for command, ctx in walk(cli, root):
        path = ctx.command_path
        anchor = path.replace(" ", "-")
        contents.append(f"{'  ' * (len(path.split()) - 1)}- [`{path}`](#{anchor})")
        sections.append(f"### `{path}`\n\n```text\n{command.get_help(ctx).rstrip()}\n```\n")
    return (INTRO + markdown_table() + "\n\n## Commands\n\n" + "\n".join(contents) + "\n\n"
            + "\n".join(sections))


def main(argv: Optional[List[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = DEFAULT_PATH
    text = render()
    if "--check" in args:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            print(f"{path} is not current: run python -m shipmark.cli.docs", file=sys.stderr)
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
