"""Round three of the hostile inputs (issue 25): hangs, writes that were not atomic,
tracebacks from the environment, garbage accepted and unclear messages.

The card and import files of this round are under files/ (picked up by cases.py); these
need a live set-up. Registered into ``cases.CASES`` on import.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from .cases import GOOD_EXPORT, Run, case

GPT = ["memcalc", "--arch", "gpt", "--n-layer", "2", "--d-model", "64", "--n-head", "4",
       "--vocab", "100"]
# The child's disk is full once a write has begun: half the text lands, then ENOSPC.
FULL_DISK = """
import errno, pathlib
_write_text = pathlib.Path.write_text
def write_text(self, data, *args, **kwargs):
    _write_text(self, data[: len(data) // 2], *args, **kwargs)
    raise OSError(errno.ENOSPC, "No space left on device")
pathlib.Path.write_text = write_text
"""


# -- hangs ------------------------------------------------------------------------------------
@case("quiz-without-a-terminal")
def _no_terminal(tmp: Path, home: Path) -> Run:
    # stdin is /dev/null and stdout a pipe: the screen would wait for keys forever
    return Run(["quiz"], "--plain", exit_code=2, lines=1)


@case("import-from-a-fifo-with-no-writer")
def _import_fifo(tmp: Path, home: Path) -> Run:
    os.mkfifo(tmp / "backup.json")
    return Run(["progress", "import", str(tmp / "backup.json")], "backup.json", exit_code=1)


# -- writes -----------------------------------------------------------------------------------
@case("save-script-force-on-a-full-disk")
def _full_disk_script(tmp: Path, home: Path) -> Run:
    mine = tmp / "my-edited-demo.py"
    mine.write_text("# my own edits\n" * 50)
    return Run(["demo", "dying-relu", "--save-script", str(mine), "--force"],
               "my-edited-demo.py", exit_code=2, precious=[mine], prelude=FULL_DISK)


@case("export-force-over-a-fifo")
def _export_fifo(tmp: Path, home: Path) -> Run:
    os.mkfifo(tmp / "pipe.json")  # was silently replaced by a regular file
    return Run(["progress", "export", "--force", str(tmp / "pipe.json")], "pipe.json",
               exit_code=1, precious=[tmp / "pipe.json"])


# -- tracebacks -------------------------------------------------------------------------------
@case("damaged-card-state-in-the-store")
def _bad_state_row(tmp: Path, home: Path) -> Run:
    conn = sqlite3.connect(home / "progress.sqlite3")
    conn.execute("INSERT INTO cards VALUES ('c0', '{\"card_id\": 0, \"state\": 2, \"step\": "
                 "null, \"stability\": 0, \"difficulty\": 5.0, \"due\": "
                 "\"2026-03-05T09:00:00+00:00\", \"last_review\": null}', "
                 "'2026-03-05T09:00:00+00:00', '2026-03-02T09:00:00+00:00')")
    conn.commit()
    conn.close()
    return Run(["stats"], "'c0'", exit_code=1)


@case("review-time-in-year-9999-in-the-store")
def _bad_review_row(tmp: Path, home: Path) -> Run:
    conn = sqlite3.connect(home / "progress.sqlite3")
    conn.execute("UPDATE reviews SET at = '9999-12-31T23:59:59-05:00' WHERE id = 3")
    conn.commit()
    conn.close()
    return Run(["progress", "export", str(tmp / "out.json")], "9999-12-31", exit_code=1)


@case("memcalc-superscript-digit")
def _superscript(tmp: Path, home: Path) -> Run:
    return Run(["memcalc", "--layers", "7²,10"], "--layers", exit_code=2)


@case("memcalc-5000-digit-width")
def _long_digits(tmp: Path, home: Path) -> Run:
    return Run(["memcalc", "--layers", "9" * 5000 + ",10"], "--layers", exit_code=2)


@case("working-directory-deleted")
def _deleted_cwd(tmp: Path, home: Path) -> Run:
    gone = tmp / "gone"
    gone.mkdir()
    return Run(["stats"], "current directory", exit_code=2,
               prelude=f"import os\nos.chdir({str(gone)!r})\nos.rmdir({str(gone)!r})")


@case("dlprep-home-name-over-255-bytes")
def _long_home(tmp: Path, home: Path) -> Run:
    return Run(["stats"], "b" * 300, env={"DLPREP_HOME": str(tmp / ("b" * 300))}, exit_code=1)


@case("stdout-on-a-full-disk")
def _stdout_full(tmp: Path, home: Path) -> Run:
    return Run(["bank", "list"], "No space left", exit_code=1, stdout=Path("/dev/full"))


@case("wal-is-a-directory")
def _wal_dir(tmp: Path, home: Path) -> Run:
    (home / "progress.sqlite3-wal").mkdir()
    return Run(["stats"], "-wal", exit_code=1)


@case("measure-under-an-address-space-limit")
def _rlimit_as(tmp: Path, home: Path) -> Run:
    # 600 MB of address space: the 455 MB step cannot be measured (torch alone needs more)
    limit = "import resource\nresource.setrlimit(resource.RLIMIT_AS, (600 * 2**20, -1))"
    return Run(["memcalc", "--layers", "784,4096,4096,10", "--batch", "64", "--measure"],
               "ulimit -v", exit_code=2, prelude=limit)


# -- garbage accepted -------------------------------------------------------------------------
@case("empty-bank-path")
def _empty_bank(tmp: Path, home: Path) -> Run:
    (tmp / "project.yaml").write_text("name: not a card file\n")  # what '' used to walk
    return Run(["quiz", "--plain", "--bank", ""], "empty path", exit_code=2)


@case("memcalc-params-with-an-empty-group")
def _params_gap(tmp: Path, home: Path) -> Run:
    return Run(["memcalc", "--params", "1,,0"], "--params", exit_code=2)


@case("lora-target-twice")
def _lora_twice(tmp: Path, home: Path) -> Run:
    return Run([*GPT, "--lora-rank", "4", "--lora-targets", "q,q"], "--lora-targets",
               exit_code=2)


@case("lora-target-empty")
def _lora_empty(tmp: Path, home: Path) -> Run:
    return Run([*GPT, "--lora-rank", "4", "--lora-targets", "q,,v"], "--lora-targets",
               exit_code=2)


@case("gpus-10-to-the-30")
def _gpus(tmp: Path, home: Path) -> Run:
    return Run(["memcalc", "--params", "1e6", "--gpus", str(10**30)], "--gpus", exit_code=2)


@case("demo-set-arabic-indic-digit")
def _arabic_digit(tmp: Path, home: Path) -> Run:
    return Run(["demo", "dying-relu", "--set", "depth=٣"], "depth", exit_code=2)


@case("move-aside-a-healthy-file")
def _move_healthy(tmp: Path, home: Path) -> Run:
    return Run(["progress", "move-aside"], "healthy", exit_code=1)


# -- messages ---------------------------------------------------------------------------------
@case("import-over-the-cap-names-its-real-size")
def _real_size(tmp: Path, home: Path) -> Run:
    big = tmp / "big.json"
    with big.open("wb") as out:
        out.truncate(300 * 2**20)  # sparse: nothing is written
    return Run(["progress", "import", str(big)], "300 MB", exit_code=1)


@case("negative-kv-heads-named-first")
def _negative_kv(tmp: Path, home: Path) -> Run:
    return Run([*GPT, "--n-kv-head", "-1"], "--n-kv-head must be", exit_code=2)


@case("import-where-nothing-can-be-saved-is-one-line")
def _unsaved_import(tmp: Path, home: Path) -> Run:
    not_a_dir = tmp / "home-file"
    not_a_dir.write_text("I am a file")
    return Run(["progress", "import", str(GOOD_EXPORT)], str(not_a_dir), exit_code=1,
               env={"DLPREP_HOME": str(not_a_dir)}, lines=1)
