"""Run a click command from the dispatcher and turn its exit into a return code."""

from __future__ import annotations

from collections.abc import Sequence

import click


def run(command: click.Command, args: Sequence[str], prog_name: str) -> int:
    try:
        command.main(args=list(args), prog_name=prog_name, standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        click.echo(str(code), err=True)
        return 1
    return 0
