"""`dlprep progress export FILE` / `import FILE` / `move-aside`: back up, move or set aside
the review history.

Export reads the progress file without writing to it, writes a temporary file and renames
it over FILE, and never replaces a backup holding more than it would write without
``--force``. Import checks the whole file against the declared format before writing.
"""

from __future__ import annotations

import json
import stat
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from dlprep.atomic import replace_atomically
from dlprep.commands._click import run


@click.group(help="Export or import your progress (card schedule and review log) as JSON.")
def progress() -> None:
    pass


@progress.command("export", help="Write all progress to FILE ('-' for stdout). An existing "
                  "FILE holding more card states or reviews than this export is not replaced "
                  "unless --force is given.")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--force", is_flag=True, help="Replace FILE even if it holds more than this "
              "export (or is not a dlprep export).")
def export(file: str, force: bool) -> None:
    from dlprep.study.schedule import utc_now
    from dlprep.study.snapshot import read_only_store
    from dlprep.study.store import StoreError

    try:
        store = read_only_store()
    except StoreError as exc:
        raise click.ClickException(f"{exc}; nothing exported") from None
    try:
        data = store.export_data(utc_now())
    finally:
        store.close()
    text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    if file == "-":
        sys.stdout.write(text)
        return
    target = Path(file)
    if not force:
        _refuse_to_shrink(target, data)
    try:
        # a crash or a full disk leaves the old backup whole, never half a new one
        replace_atomically(target, lambda temp: temp.write_text(text, encoding="utf-8"))
    except OSError as exc:
        raise click.ClickException(f"cannot write {file}: {exc.strerror or exc}; "
                                   "nothing was changed") from None
    click.echo(f"exported {len(data['cards'])} card state(s) and {len(data['reviews'])} "
               f"review(s) to {file}")


def _refuse_to_shrink(target: Path, data: dict[str, Any]) -> None:
    """Stop before a backup is replaced by one holding less (a wrong DLPREP_HOME, say)."""
    try:
        info = target.stat()
    except FileNotFoundError:
        return
    except OSError as exc:  # a name too long, a loop of links: it cannot be written either
        raise click.ClickException(f"cannot write {target}: {exc.strerror or exc}; nothing "
                                   "was changed") from None
    if info.st_size == 0 or not stat.S_ISREG(info.st_mode):
        return  # nothing to lose (replace_atomically refuses what is not a regular file)
    try:
        with target.open("rb") as src:
            old = json.loads(src.read(256 * 2**20).removeprefix(b"\xef\xbb\xbf"))
    except (OSError, ValueError):
        old = None
    if not (isinstance(old, dict) and old.get("format") == data["format"]
            and isinstance(old.get("cards"), list) and isinstance(old.get("reviews"), list)):
        raise click.ClickException(f"{target} exists and is not a dlprep progress export; "
                                   "not replaced (use --force to replace it)")
    had, has = (len(old["cards"]), len(old["reviews"])), (len(data["cards"]),
                                                           len(data["reviews"]))
    if has[0] < had[0] or has[1] < had[1]:
        raise click.ClickException(
            f"{target} holds {had[0]} card state(s) and {had[1]} review(s); this export has "
            f"only {has[0]} and {has[1]}. Not replaced (use --force to replace it)")


@progress.command("import", help="Merge FILE into your progress: new reviews are added, the "
                  "newer state of each card wins; importing twice changes nothing. The whole "
                  "file is checked first; nothing is written if any part of it is wrong.")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
def import_(file: str) -> None:
    from dlprep.study.progress_file import MAX_IMPORT_BYTES, ExportError, parse_export
    from dlprep.study.store import SCHEMA_VERSION, StoreError, open_store

    try:
        raw = _read_export(file, MAX_IMPORT_BYTES)
    except OSError as exc:
        raise click.ClickException(f"cannot read {file}: {exc.strerror or exc}") from None
    except ExportError as exc:
        raise click.ClickException(f"{file}: {exc}; nothing imported") from None
    try:
        data = parse_export(raw, SCHEMA_VERSION)
    except ExportError as exc:
        raise click.ClickException(f"{file}: {exc}; nothing imported") from None
    try:
        store = open_store()
    except StoreError as exc:
        raise click.ClickException(f"{exc}; nothing imported") from None
    try:
        if not store.saving:  # one line: the notice says why, and that nothing was imported
            raise click.ClickException(store.notice.replace(
                "this session runs without saving.", "nothing imported"))
        if store.notice:
            click.echo(store.notice, err=True)
        added, taken = store.import_data(data)
    except StoreError as exc:
        raise click.ClickException(f"{file}: {exc}; nothing imported") from None
    finally:
        store.close()
    click.echo(f"imported {added} new review(s) and {taken} card state(s) from {file}")


def _read_export(file: str, cap: int) -> bytes:
    """Up to ``cap + 1`` bytes of FILE ('-': stdin). Only a regular file is opened: a FIFO
    with no writer would block forever and a device never ends (stdin still reads a pipe)."""
    import os

    from dlprep.study.progress_file import ExportError, too_big

    if file == "-":
        return sys.stdin.buffer.read(cap + 1)
    fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK)  # opening a FIFO must not wait either
    with os.fdopen(fd, "rb") as src:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ExportError("not a regular file (a FIFO, device or socket); to read a "
                              "stream give '-' and redirect it to stdin")
        if info.st_size > cap:
            raise ExportError(too_big(info.st_size))
        return src.read(cap + 1)


@progress.command("move-aside", help="Rename a damaged progress file to progress.sqlite3.bad-"
                  "DATE (kept, never deleted) so that the next session starts fresh. A "
                  "healthy file is moved only with --force.")
@click.option("--force", is_flag=True, help="Move the file aside even though it is healthy.")
def move_aside_(force: bool) -> None:
    from dlprep.paths import progress_db_path
    from dlprep.study.snapshot import read_only_store
    from dlprep.study.store import StoreError, move_aside

    path = progress_db_path()
    if not path.is_file():
        raise click.ClickException(f"there is no progress file at {path}; nothing moved")
    if not force:
        try:  # a healthy file (another dlprep may be writing to it) is history, not debris
            read_only_store(path).close()
        except StoreError:
            pass
        else:
            raise click.ClickException(f"{path} is healthy; nothing moved (use --force to "
                                       "move it aside anyway)")
    try:
        moved = move_aside(path)
    except OSError as exc:
        raise click.ClickException(f"cannot move {path}: {exc.strerror or exc}") from None
    click.echo(f"moved {path} to {moved}; the next session starts a fresh progress file")


def main(args: Sequence[str], prog_name: str = "dlprep progress") -> int:
    return run(progress, args, prog_name)
