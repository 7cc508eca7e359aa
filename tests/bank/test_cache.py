"""The bank cache: served while the inputs match, rebuilt when they change or it is damaged."""

from __future__ import annotations

import io
import os
import pickle
import random
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

import dlprep.bank.cache as cache
from dlprep import paths
from dlprep.bank import BankPathError
from dlprep.bank import loader as bank_loader
from dlprep.bank.cards import TrueFalse
from dlprep.bank.loader import Bank
from dlprep.bank.stored import StoredCards
from dlprep.study.plan import Spec
from dlprep.study.schedule import ManualClock, Scheduler
from dlprep.study.session import Session
from dlprep.study.store import memory_store

FIXTURE = Path(__file__).parent / "builtin-fixture"


def card(card_id: str, question: str) -> str:
    return f"""- id: {card_id}
  topic: memory
  type: truefalse
  difficulty: 1
  q: {{en: "{question}", ko: "그런가?"}}
  explain: {{en: "Yes.", ko: "그렇다."}}
  refs: ["Deep Learning, MIT Press 2016"]
  answer: true
"""


@pytest.fixture
def bank_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small built-in bank (the real one keeps growing) with one card file."""
    folder = tmp_path / "bank"
    folder.mkdir()
    (folder / "cards.yaml").write_text(card("c-one", "Alpha question?"), encoding="utf-8")
    monkeypatch.setattr(paths, "builtin_bank_dir", lambda: folder)
    return folder


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts real (uncached) loads."""
    calls: list[int] = []
    real = bank_loader.load_bank

    def counting(*args: object, **kwargs: object) -> Bank:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(bank_loader, "load_bank", counting)
    return calls


def question(bank: Bank, card_id: str = "c-one") -> str:
    return bank.cards[card_id].q.en


def test_cache_dir_follows_dlprep_home(_isolated_home: Path) -> None:
    assert cache.cache_dir() == _isolated_home / "cache"


def test_second_load_is_served_from_the_cache(bank_dir: Path, loads: list[int]) -> None:
    first = cache.load_bank()
    assert cache.cache_path().is_file() and len(loads) == 1
    second = cache.load_bank()
    assert len(loads) == 1  # no parsing or validation the second time
    assert second.cards == first.cards and second.origins == first.origins
    assert question(second) == "Alpha question?"


def test_editing_a_card_file_is_a_miss_and_shows_the_new_text(
    bank_dir: Path, loads: list[int]
) -> None:
    cache.load_bank()
    # Same length, written at once: size and (coarse) mtime may well be unchanged.
    (bank_dir / "cards.yaml").write_text(card("c-one", "Omega question?"), encoding="utf-8")
    assert question(cache.load_bank()) == "Omega question?"
    assert len(loads) == 2
    assert question(cache.load_bank()) == "Omega question?" and len(loads) == 2


def test_added_and_removed_files_are_misses(bank_dir: Path, loads: list[int]) -> None:
    cache.load_bank()
    extra = bank_dir / "more.yml"
    extra.write_text(card("c-two", "Second?"), encoding="utf-8")
    assert set(cache.load_bank().cards) == {"c-one", "c-two"}
    extra.unlink()
    assert set(cache.load_bank().cards) == {"c-one"}
    assert len(loads) == 3


def test_user_banks_are_part_of_the_key(
    bank_dir: Path, tmp_path: Path, loads: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "mine.yaml").write_text(card("c-mine", "Mine?"), encoding="utf-8")
    assert "c-mine" not in cache.load_bank().cards
    assert "c-mine" in cache.load_bank([str(mine)]).cards
    monkeypatch.setenv("DLPREP_BANK", str(mine))
    assert "c-mine" in cache.load_bank().cards
    assert len(loads) == 2  # the last two have the same inputs: --bank and DLPREP_BANK


def test_demo_files_are_part_of_the_key(
    bank_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demos = tmp_path / "demos"
    demos.mkdir()
    (demos / "one.py").write_text('META = {"name": "one"}\n', encoding="utf-8")
    monkeypatch.setattr(paths, "demos_dir", lambda: demos)
    before = cache.bank_key()
    assert cache.bank_key() == before
    (demos / "one.py").write_text('META = {"name": "two"}\n', encoding="utf-8")
    assert cache.bank_key() != before


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"not a pickle at all",
        b"\x80\x05\x95",  # a truncated pickle
        b"cno_such_module_anywhere\nThing\n.",  # a pickle that fails to import on load
        pickle.dumps(("someone-elses-key", Bank())),
        pickle.dumps(["a", "list"]),
        pickle.dumps((cache.FORMAT - 1, "a-key", 0, 0, {}, [])),  # an older format
    ],
    ids=["empty", "garbage", "truncated", "unimportable", "other-key", "other-type",
         "old-format"],
)
def test_a_damaged_or_foreign_cache_is_ignored_and_rewritten(
    bank_dir: Path, loads: list[int], damage: bytes
) -> None:
    cache.cache_path().parent.mkdir(parents=True, exist_ok=True)
    cache.cache_path().write_bytes(damage)
    assert question(cache.load_bank()) == "Alpha question?"
    assert len(loads) == 1
    assert question(cache.load_bank()) == "Alpha question?" and len(loads) == 1


def test_an_unwritable_cache_still_loads(
    bank_dir: Path, _isolated_home: Path, loads: list[int]
) -> None:
    (_isolated_home / "cache").write_text("a file where the cache folder should be")
    assert question(cache.load_bank()) == "Alpha question?"
    assert question(cache.load_bank()) == "Alpha question?"
    assert len(loads) == 2  # nothing could be cached; every load is a real one


def test_a_missing_bank_path_is_a_usage_error_as_when_loading() -> None:
    with pytest.raises(BankPathError):
        cache.load_bank(["/no/such/bank/anywhere"])


def test_cached_bank_equals_a_fresh_load(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, loads: list[int]
) -> None:
    monkeypatch.setattr(paths, "builtin_bank_dir", lambda: FIXTURE)
    broken = tmp_path / "broken.yaml"  # skipped cards and their problems are cached too
    broken.write_text(card("c-bad", "Bad?").replace("  answer: true\n", ""), encoding="utf-8")
    fresh = bank_loader.load_paths([broken], builtin=FIXTURE)
    assert fresh.problems and "c-bad" not in fresh.cards
    cache.load_bank([str(broken)])
    cached = cache.load_bank([str(broken)])
    assert len(loads) == 1
    assert cached.cards == fresh.cards
    assert cached.origins == fresh.origins
    assert cached.problems == fresh.problems


def test_pydantic_version_is_part_of_the_key_without_importing_it(
    bank_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pydantic

    found = cache.pydantic_version_file()
    assert found is not None
    assert f"VERSION = '{pydantic.VERSION}'" in found.read_text(encoding="utf-8")
    fake = tmp_path / "version.py"
    fake.write_text("VERSION = '2.0.0'\n", encoding="utf-8")
    monkeypatch.setattr(cache, "pydantic_version_file", lambda: fake)
    before = cache.bank_key()
    fake.write_text("VERSION = '2.0.1'\n", encoding="utf-8")
    assert cache.bank_key() != before


def test_the_cache_holds_an_index_then_runtime_cards(bank_dir: Path) -> None:
    cache.load_bank()
    stream = io.BytesIO(cache.cache_path().read_bytes())
    index = pickle.load(stream)
    assert index[:2] == (cache.FORMAT, cache.bank_key())
    # each card's topic and difficulty: what the home screen counts and a session plans from
    assert index[4] == ({"c-one": "memory"}, {"c-one": 1})
    blobs, origins = pickle.load(stream)
    assert type(pickle.loads(blobs["c-one"])) is TrueFalse and origins["c-one"].line == 1
    assert b"pydantic" not in cache.cache_path().read_bytes()


def test_a_session_from_a_hit_unpickles_only_the_card_it_shows(
    bank_dir: Path, loads: list[int]
) -> None:
    """It plans from the index (topics, difficulties) and shows one card: the first card
    costs the same however large the bank, and the plan is the one a full load gives."""
    (bank_dir / "cards.yaml").write_text(
        "".join(card(f"c-{i}", f"Question {i}?").replace("difficulty: 1", f"difficulty: {d}")
                .replace("topic: memory", f"topic: {topic}")
                for i, (d, topic) in enumerate([(3, "memory"), (1, "gpu"), (2, "memory"),
                                                (1, "memory"), (3, "gpu"), (2, "gpu")])),
        encoding="utf-8")
    fresh = cache.open_bank()
    hit = cache.open_bank()
    assert isinstance(fresh, Bank) and isinstance(hit, cache.CachedBank) and len(loads) == 1
    stored = hit.cards
    assert isinstance(stored, StoredCards) and stored.unpickled == 0
    shown_ids = set()
    for spec in (Spec(), Spec(mode="cram"), Spec(mode="mock", mock_cards=4),
                 Spec(topics=("gpu",), length=2)):
        clock = ManualClock(datetime(2026, 1, 5, tzinfo=UTC))
        planned = [Session(bank.cards, memory_store(), Scheduler(clock), spec, "en",
                           random.Random(7)) for bank in (fresh, hit)]
        assert planned[0].queue == planned[1].queue and planned[1].queue
        shown = planned[1].current()
        assert shown is not None and shown.card == fresh.cards[shown.card.id]
        shown_ids.add(shown.card.id)
        assert stored.unpickled == len(shown_ids)  # the cards shown, and no other
    assert "c-0" in stored and "c-9" not in stored and list(stored) == list(fresh.cards)


def test_a_hit_unpickles_no_card_until_one_is_asked_for(bank_dir: Path, loads: list[int]) -> None:
    (bank_dir / "cards.yaml").write_text(
        card("c-one", "Alpha?") + card("c-bad", "Bad?").replace("  answer: true\n", ""),
        encoding="utf-8")
    fresh = cache.open_bank()
    assert isinstance(fresh, Bank)  # a miss: loaded from the files
    hit = cache.open_bank()
    assert isinstance(hit, cache.CachedBank) and len(loads) == 1
    # What the command line and the home screen read, with no card unpickled
    assert hit.card_topics == fresh.card_topics == {"c-one": "memory"}
    assert hit.topics() == fresh.topics() and hit.problems == fresh.problems
    assert hit.errors == fresh.errors and "c-bad" in str(hit.errors[0])
    assert not hit.loaded
    assert hit.cards == fresh.cards and hit.origins == fresh.origins
    assert hit.loaded and len(loads) == 1


def _damage_cards(flip: bool) -> None:
    """Damage the stored cards after a good index: flip their last byte, or cut it off."""
    data = bytearray(cache.cache_path().read_bytes())
    if flip:
        data[-1] ^= 0xFF
    cache.cache_path().write_bytes(bytes(data if flip else data[:-1]))


def test_cut_off_cards_are_a_miss_at_once(bank_dir: Path, loads: list[int]) -> None:
    cache.load_bank()
    _damage_cards(flip=False)
    assert isinstance(cache.open_bank(), Bank) and len(loads) == 2  # loaded, and rewritten
    assert isinstance(cache.open_bank(), cache.CachedBank) and len(loads) == 2


def test_damaged_cards_behind_a_good_index_are_loaded_from_the_files(
    bank_dir: Path, loads: list[int]
) -> None:
    cache.load_bank()
    _damage_cards(flip=True)
    hit = cache.open_bank()
    assert isinstance(hit, cache.CachedBank)  # the index still matches the files
    assert question(hit.bank()) == "Alpha question?" and len(loads) == 2  # never a wrong bank
    assert question(cache.open_bank().bank()) == "Alpha question?" and len(loads) == 2


class _Stat:
    """A regular file's stat whose times stand still, as on a file system with a coarse clock."""

    def __init__(self, real: os.stat_result, at_ns: int) -> None:
        self.st_mode, self.st_size, self.st_dev, self.st_ino = (
            real.st_mode, real.st_size, real.st_dev, real.st_ino)
        self.st_mtime_ns = self.st_ctime_ns = at_ns


def _frozen_stat(monkeypatch: pytest.MonkeyPatch, at_ns: int) -> None:
    real = os.stat
    monkeypatch.setattr(cache, "_stat", lambda path: _Stat(real(path), at_ns))


def test_a_file_changed_just_now_is_keyed_by_its_contents(
    bank_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two same-size writes within one clock tick leave every stat field as it was: the key
    of a file that recent comes from what it holds."""
    now = time.time_ns()
    _frozen_stat(monkeypatch, now)
    before = cache.bank_key(now_ns=now + cache.RACY_NS // 2)
    (bank_dir / "cards.yaml").write_text(card("c-one", "Omega question?"), encoding="utf-8")
    assert cache.bank_key(now_ns=now + cache.RACY_NS // 2) != before


def test_an_older_file_is_keyed_by_its_stat_without_reading_it(
    bank_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = time.time_ns()
    _frozen_stat(monkeypatch, now)
    later = now + 2 * cache.RACY_NS
    before = cache.bank_key(now_ns=later)
    # The same stat (only a coarse clock could give it) and other contents: not read again
    (bank_dir / "cards.yaml").write_text(card("c-one", "Omega question?"), encoding="utf-8")
    assert cache.bank_key(now_ns=later) == before


def test_any_write_to_an_older_file_changes_its_key(bank_dir: Path) -> None:
    path = bank_dir / "cards.yaml"
    time.sleep(0.05)  # past any file-system clock tick (ext4: 4 ms at most)
    later = time.time_ns() + 2 * cache.RACY_NS  # every file old enough to be keyed by stat
    before = cache.bank_key(now_ns=later)
    old = os.stat(path)
    time.sleep(0.05)
    path.write_text(card("c-one", "Omega question?"), encoding="utf-8")  # the same size
    os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns))  # and its time set back
    assert os.stat(path).st_size == old.st_size
    assert cache.bank_key(now_ns=later) != before  # the change time cannot be set back
