"""The hostile inputs: files under files/, and set-ups that need a live filesystem (FIFOs,
symlink loops, a damaged or newer progress file, a DLPREP_HOME that is a file).

Each case returns the command to run and the text its one error line must name.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dlprep.study.store import Review, open_store

FILES = Path(__file__).resolve().parent / "files"
GOOD_EXPORT = Path(__file__).resolve().parent / "good-export.json"
CARD = """- id: {id}
  topic: memory
  type: truefalse
  difficulty: 1
  q: {{en: "Is it {id}?", ko: "{id}인가?"}}
  explain: {{en: "Yes.", ko: "그렇다."}}
  refs: ["Deep Learning, MIT Press 2016"]
  answer: true
"""


@dataclass
class Run:
    args: list[str]
    needle: str  # the one error line names this (a file or a path)
    env: dict[str, str] = field(default_factory=dict)
    exit_code: int | None = None  # None: any non-zero code
    precious: list[Path] = field(default_factory=list)  # files besides the progress file
    # Python run in the child before dlprep starts: simulates what a test cannot make for
    # real (a full disk, an address-space limit, a deleted working directory)
    prelude: str = ""
    stdout: Path | None = None  # where stdout goes (e.g. /dev/full); None: captured
    lines: int | None = None  # the whole output is this many lines (one problem, one line)


Setup = Callable[[Path, Path], Run]  # (scratch folder, DLPREP_HOME) -> what to run
CASES: dict[str, Setup] = {}


def case(name: str) -> Callable[[Setup], Setup]:
    def register(setup: Setup) -> Setup:
        CASES[name] = setup
        return setup

    return register


def seed_progress(home: Path, reviews: int = 12) -> Path:
    """A learner's progress: a few reviews, committed and checkpointed into the main file."""
    store = open_store(home / "progress.sqlite3")
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    for i in range(reviews):
        store.record(Review(f"card-{i % 4}", start + timedelta(minutes=i), 3, "x" * 300, 900,
                            "due", True, "memory"), None)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return home / "progress.sqlite3"


def damage_a_page(path: Path) -> None:
    """Scribble over one b-tree page, leaving the 100-byte SQLite header intact."""
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    assert len(data) >= 4 * page, "seed more reviews: the file needs four pages"
    data[3 * page + 8: 3 * page + page // 2] = b"\x5a" * (page // 2 - 8)
    path.write_bytes(bytes(data))


# -- card files: `bank validate -q FILE` prints exactly the problem -------------------------
for _yaml in sorted(FILES.glob("*.yaml")):
    CASES[f"validate-{_yaml.stem}"] = (
        lambda tmp, home, p=_yaml: Run(["bank", "validate", "-q", str(p)], p.name, exit_code=1))

# the quiz refuses them too (--strict: the problem, then a count without the file's name)
for _stem in ("billion-laughs", "deep-nesting", "unclosed-quote"):
    CASES[f"quiz-strict-{_stem}"] = (
        lambda tmp, home, s=_stem: Run(["quiz", "--plain", "--strict", "--bank",
                                        str(FILES / f"{s}.yaml")], f"{s}.yaml", exit_code=1))

# -- progress files to import: the whole file is checked before anything is written ---------
for _json in sorted(FILES.glob("import-*.json")):
    CASES[_json.stem] = (
        lambda tmp, home, p=_json: Run(["progress", "import", str(p)], p.name, exit_code=1))


@case("card-file-over-the-size-cap")
def _oversized(tmp: Path, home: Path) -> Run:
    big = tmp / "huge.yaml"
    big.write_text(CARD.format(id="big") + ("# padding " + "x" * 90 + "\n") * 30_000)
    return Run(["bank", "validate", "-q", str(big)], "huge.yaml", exit_code=1)


@case("more-cards-than-the-cap")
def _too_many(tmp: Path, home: Path) -> Run:
    folder = tmp / "many"
    folder.mkdir()
    for f in range(5):
        cards = "".join(CARD.format(id=f"c{f}-{i}") for i in range(2000))
        (folder / f"part-{f}.yaml").write_text(cards, encoding="utf-8")
    return Run(["bank", "validate", "-q", str(folder)], "more than 10000 cards", exit_code=1)


@case("hundreds-of-thousands-of-tiny-entries")
def _tiny_entries(tmp: Path, home: Path) -> Run:
    (tmp / "tiny.yaml").write_text("- 1\n" * 400_000)  # 1.6 MB, under the size cap
    return Run(["bank", "validate", "-q", str(tmp / "tiny.yaml")], "tiny.yaml", exit_code=1)


@case("empty-folder")
def _empty(tmp: Path, home: Path) -> Run:
    (tmp / "nothing-here").mkdir()
    return Run(["bank", "validate", str(tmp / "nothing-here")], "nothing-here", exit_code=2)


@case("fifo-as-bank")
def _fifo(tmp: Path, home: Path) -> Run:
    os.mkfifo(tmp / "pipe.yaml")
    return Run(["bank", "validate", str(tmp / "pipe.yaml")], "pipe.yaml", exit_code=2)


@case("fifo-inside-a-folder")
def _fifo_inside(tmp: Path, home: Path) -> Run:
    (tmp / "cards").mkdir()
    os.mkfifo(tmp / "cards" / "pipe.yaml")
    return Run(["bank", "validate", "-q", str(tmp / "cards")], "pipe.yaml", exit_code=1)


@case("symlink-loop")
def _loop(tmp: Path, home: Path) -> Run:
    (tmp / "loop.yaml").symlink_to(tmp / "loop.yaml")
    return Run(["bank", "validate", str(tmp / "loop.yaml")], "loop.yaml", exit_code=2)


@case("symlink-loop-inside-a-folder")
def _loop_inside(tmp: Path, home: Path) -> Run:
    (tmp / "cards").mkdir()
    (tmp / "cards" / "loop.yaml").symlink_to(tmp / "cards" / "loop.yaml")
    (tmp / "cards" / "up").symlink_to(tmp)  # a folder link back up: not followed
    return Run(["bank", "validate", "-q", str(tmp / "cards")], "loop.yaml", exit_code=1)


# -- the progress file and its backups --------------------------------------------------------
@case("export-with-dlprep-home-a-file")
def _home_is_file(tmp: Path, home: Path) -> Run:
    backup = tmp / "backup.json"
    backup.write_bytes(GOOD_EXPORT.read_bytes())
    not_a_dir = tmp / "home-file"
    not_a_dir.write_text("I am a file")
    return Run(["progress", "export", str(backup)], str(not_a_dir),
               env={"DLPREP_HOME": str(not_a_dir)}, exit_code=1, precious=[backup, not_a_dir])


@case("export-with-progress-a-directory")
def _progress_is_dir(tmp: Path, home: Path) -> Run:
    odd = tmp / "odd-home"
    (odd / "progress.sqlite3").mkdir(parents=True)
    backup = tmp / "backup.json"
    backup.write_bytes(GOOD_EXPORT.read_bytes())
    return Run(["progress", "export", str(backup)], str(odd / "progress.sqlite3"),
               env={"DLPREP_HOME": str(odd)}, exit_code=1, precious=[backup])


@case("export-from-an-empty-home-over-a-backup")
def _empty_home(tmp: Path, home: Path) -> Run:
    backup = tmp / "backup.json"
    backup.write_bytes(GOOD_EXPORT.read_bytes())
    empty = tmp / "empty-home"
    empty.mkdir()
    return Run(["progress", "export", str(backup)], "progress.sqlite3",
               env={"DLPREP_HOME": str(empty)}, exit_code=1, precious=[backup])


@case("export-over-a-fuller-backup")
def _fuller_backup(tmp: Path, home: Path) -> Run:
    import json

    from dlprep.study.snapshot import read_only_store

    fuller = seed_progress(tmp, reviews=40)
    store = read_only_store(fuller)
    backup = tmp / "backup.json"
    backup.write_text(json.dumps(store.export_data(datetime.now(UTC))))
    store.close()
    return Run(["progress", "export", str(backup)], "backup.json", exit_code=1,
               precious=[backup])


@case("export-over-a-file-that-is-not-an-export")
def _not_export(tmp: Path, home: Path) -> Run:
    notes = tmp / "notes.json"
    notes.write_text('{"my": "notes"}\n')
    return Run(["progress", "export", str(notes)], "notes.json", exit_code=1, precious=[notes])


def _damaged(home: Path) -> None:
    damage_a_page(home / "progress.sqlite3")


def _newer(home: Path) -> None:
    conn = sqlite3.connect(home / "progress.sqlite3")
    conn.execute("PRAGMA user_version = 99")
    conn.close()


_COMMANDS = {"stats": ["stats"], "export": ["progress", "export", "out.json"],
             "import": ["progress", "import", str(GOOD_EXPORT)], "quiz": ["quiz", "--plain"]}
for _what, _spoil in (("damaged-page", _damaged), ("newer-schema", _newer)):
    for _name, _args in _COMMANDS.items():
        def _spoiled(tmp: Path, home: Path, spoil: Callable[[Path], None] = _spoil,
                     args: list[str] = _args) -> Run:
            spoil(home)
            return Run([a.replace("out.json", str(tmp / "out.json")) for a in args],
                       str(home / "progress.sqlite3"), exit_code=1)

        CASES[f"{_what}-{_name}"] = _spoiled


@case("save-script-over-an-existing-file")
def _save_script(tmp: Path, home: Path) -> Run:
    mine = tmp / "my-edited-demo.py"
    mine.write_text("# my own edits\n")
    return Run(["demo", "dying-relu", "--save-script", str(mine)], "my-edited-demo.py",
               exit_code=2, precious=[mine])
