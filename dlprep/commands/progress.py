"""`dlprep progress export FILE` / `import FILE`: move or back up review history as JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence

import click

from dlprep.commands._click import run


@click.group(help="Export or import your progress (card schedule and review log) as JSON.")
def progress() -> None:
    pass


@progress.command("export", help="Write all progress to FILE ('-' for stdout).")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
def export(file: str) -> None:
    from dlprep.study.schedule import utc_now
    from dlprep.study.store import open_store

    store = open_store()
    if store.notice:
        click.echo(store.notice, err=True)
    data = store.export_data(utc_now())
    store.close()
    text = json.dumps(data, ensure_ascii=False, indent=1)
    with click.open_file(file, "w", encoding="utf-8") as out:
        out.write(text + "\n")
    if file != "-":
        click.echo(f"exported {len(data['cards'])} card state(s) and {len(data['reviews'])} "
                   f"review(s) to {file}")


@progress.command("import", help="Merge FILE into your progress: new reviews are added, the "
                  "newer state of each card wins; importing twice changes nothing.")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
def import_(file: str) -> None:
    from dlprep.study.store import StoreError, open_store

    try:
        with click.open_file(file, "r", encoding="utf-8") as src:
            data = json.load(src)
    except OSError as exc:
        raise click.FileError(file, exc.strerror) from None
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{file} is not JSON: {exc}") from None
    store = open_store()
    if store.notice:
        click.echo(store.notice, err=True)
    if not store.saving:
        store.close()
        raise click.ClickException("progress cannot be saved here, nothing imported")
    try:
        added, taken = store.import_data(data)
    except StoreError as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    finally:
        store.close()
    click.echo(f"imported {added} new review(s) and {taken} card state(s) from {file}")


def main(args: Sequence[str], prog_name: str = "dlprep progress") -> int:
    return run(progress, args, prog_name)
