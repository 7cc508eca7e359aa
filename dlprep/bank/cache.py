"""A cache of the loaded, validated bank, so the quiz skips YAML parsing and validation.

The file holds two pickles, written together: an index (each card's topic and difficulty,
and every problem found) and the cards, each pickled on its own, with their origins. The
home screen needs only the index; a session plans from the index and unpickles a card when
it shows it (:class:`~dlprep.bank.stored.StoredCards`), so a start served from the cache
reads the cards it shows, not the whole bank. The problems are known at once, so they are
reported before any screen as after a real load.

Both are stored under a key made of everything that can change what loading returns: the
card files' paths and what they hold, the demo files (demo links are checked against their
``META``), dlprep's own bank and registry code, the Python, pydantic and dlprep versions and
the working directory (problem locations are written relative to it). The cards are plain
dataclasses and pydantic's version is read from its ``version.py`` without importing it, so
a hit imports neither pydantic nor yaml.

A file stands in the key by its ``stat`` (device, inode, type and permissions, size, and
modification and change times in nanoseconds) rather than by its contents, which would
mean reading and hashing every card file on every start. The change time cannot be set back
by a program (``touch -d`` sets only the others), so any write changes it, except a second
write within one tick of the file system's clock: a file changed less than
:data:`RACY_NS` before the key is made is keyed by its contents instead (git's "racy"
files). The key of such a file changes once it is no longer racy: one more rebuild, never a
wrong bank.

A cache that is missing, unreadable, corrupt or made for another key is a miss: the bank
is loaded normally and the cache rewritten. Failing to write it is never an error.
"""

from __future__ import annotations

import importlib.machinery
import io
import os
import pickle
import stat
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dlprep import __version__, paths
from dlprep.bank.files import CardFileError, card_files, read_card_file
from dlprep.bank.stored import Listing, StoredCards, listing_of
from dlprep.bank.topics import in_map_order

if TYPE_CHECKING:
    from collections.abc import Mapping

    from dlprep.bank.cards import Card
    from dlprep.bank.loader import Bank, Origin, Problem

# A hit reads the index only: the loader and the card classes are imported when the cards
# are unpickled or the files loaded (pickle imports the classes it needs by itself).

try:  # importing hashlib also sets up OpenSSL's hashes, which the key does not use
    from _blake2 import blake2b
except ImportError:  # a Python built without its own BLAKE2
    from hashlib import blake2b

CACHE_NAME = "bank.pickle"
# Bump when what is pickled changes shape (2: runtime cards, not pydantic models; 3: an index
# before the bank, files keyed by stat; 4: each card pickled on its own, difficulty indexed).
FORMAT = 4
# Generous against coarse clocks: 2 s is FAT's resolution; ext4 and APFS tick far faster.
RACY_NS = 3 * 10**9
_CODE = Path(__file__).resolve().parent
_stat = os.stat  # a seam: tests stand in a file system whose clock is coarse


def cache_dir() -> Path:
    """``DLPREP_HOME/cache`` when DLPREP_HOME is set (tests), else the platform's cache dir."""
    home = os.environ.get("DLPREP_HOME")
    if home:
        return Path(home).expanduser() / "cache"
    from platformdirs import user_cache_dir  # imported lazily: startup speed

    return Path(user_cache_dir("dlprep", appauthor=False))


def cache_path() -> Path:
    return cache_dir() / CACHE_NAME


def bank_key(extra: Sequence[str] = (), *, builtin: bool = True,
             now_ns: int | None = None) -> str:
    """A digest of every input of :func:`dlprep.bank.loader.load_bank` for these paths.

    ``now_ns`` (default: the clock) decides which files are racy. Raises
    :class:`~dlprep.bank.loader.BankPathError` for a missing path, as loading would.
    """
    now = time.time_ns() if now_ns is None else now_ns
    digest = blake2b(digest_size=20)
    header = (FORMAT, __version__, sys.version, os.getcwd(), builtin)
    digest.update(repr(header).encode())
    version_file = pydantic_version_file()
    if version_file is not None:
        _add_file(digest, version_file, now)
    # Through ``paths``, as the loader reads them, so whatever it would read is what gets keyed.
    sources = [paths.builtin_bank_dir()] if builtin else []
    sources += paths.user_bank_paths(extra)
    for source in sources:
        digest.update(b"\0source\0" + str(source).encode())
        for path in card_files(source):
            _add_file(digest, path, now, card=True)
    code = sorted(_CODE.glob("*.py")) + [_CODE.parent / "registry.py"]
    # a demo's META check runs at validation, and gpu-memory's runs memcalc's estimator
    code += sorted((_CODE.parent / "memcalc").rglob("*.py"))
    for path in code + sorted(paths.demos_dir().glob("*.py")):
        _add_file(digest, path, now)
    return digest.hexdigest()


def pydantic_version_file() -> Path | None:
    """Pydantic's ``version.py``, found without importing pydantic (a hit must not need it).

    Pydantic's version decides what validates. That file names both it and the pydantic-core
    it requires (pydantic refuses to import with another), so it stands for both.
    """
    spec = importlib.machinery.PathFinder.find_spec("pydantic")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "version.py"


def _add_file(digest: blake2b, path: Path, now: int, *, card: bool = False) -> None:
    digest.update(b"\0file\0" + str(path).encode() + b"\0")
    try:
        info = _stat(path)
    except OSError as exc:  # the loader reports unreadable files; the key just records it
        digest.update(f"unreadable: {exc.errno}".encode())
        return
    if stat.S_ISREG(info.st_mode) and now - max(info.st_mtime_ns, info.st_ctime_ns) > RACY_NS:
        digest.update(b"stat" + repr((info.st_dev, info.st_ino, info.st_mode, info.st_size,
                                      info.st_mtime_ns, info.st_ctime_ns)).encode())
        return
    digest.update(b"data")  # racy, or not a regular file: what reading it gives
    try:
        # A card file is read as the loader reads it: capped, never blocking on a FIFO.
        digest.update(read_card_file(path) if card else path.read_bytes())
    except CardFileError as exc:
        digest.update(str(exc).encode())
    except OSError as exc:
        digest.update(f"unreadable: {exc.errno}".encode())


class CachedBank:
    """A bank served from the cache: each card's topic and every problem at once, the cards
    (:class:`StoredCards`) and their origins when first asked for.

    It answers what :class:`Bank` answers. Should the stored cards fail to match the index
    they were written with (a damaged file), the bank is loaded from its files instead.
    """

    def __init__(self, listing: Listing, problems: list[Problem], stored: bytes,
                 check: int, reload: Callable[[], Bank]) -> None:
        self.listing = listing
        self.card_topics = listing.topics
        self.problems = problems
        self._stored: bytes | None = stored
        self._check = check
        self._reload = reload
        self._opened: tuple[Mapping[str, Card], dict[str, Origin]] | None = None
        self._reloaded: Bank | None = None

    @property
    def loaded(self) -> bool:
        """Whether the stored cards have been opened (or the files reloaded) yet."""
        return self._opened is not None

    @property
    def cards(self) -> Mapping[str, Card]:
        return self._open()[0]

    @property
    def origins(self) -> dict[str, Origin]:
        return self._open()[1]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def topics(self) -> list[str]:
        return in_map_order(self.card_topics.values())

    def bank(self) -> Bank:
        """The whole bank, every card unpickled."""
        from dlprep.bank.loader import Bank

        cards, origins = self._open()
        if self._reloaded is not None:
            return self._reloaded
        return Bank(cards=dict(cards.items()), origins=origins, problems=self.problems)

    def _open(self) -> tuple[Mapping[str, Card], dict[str, Origin]]:
        if self._opened is None:
            stored, self._stored = self._stored, None
            self._opened = self._unpickle(stored) if stored is not None else None
            if self._opened is None:
                self._reloaded = self._reload()
                self._opened = (self._reloaded.cards, self._reloaded.origins)
        return self._opened

    def _unpickle(self, stored: bytes) -> tuple[StoredCards, dict[str, Origin]] | None:
        if zlib.crc32(stored) != self._check:  # against damage, not malice: a CRC will do
            return None
        try:
            blobs, origins = pickle.loads(stored)
        except Exception:  # damaged after all: load the files
            return None
        if (not isinstance(blobs, dict) or not isinstance(origins, dict)
                or list(blobs) != list(self.card_topics)):
            return None
        return StoredCards(blobs, self.listing), origins


def read_cache(key: str, path: Path | None = None,
               reload: Callable[[], Bank] | None = None) -> CachedBank | None:
    """The cached bank for ``key``, or None if there is none or it cannot be trusted.

    ``reload`` gives the bank should its stored cards turn out damaged (default: a fresh
    load of the built-in bank).
    """
    try:
        data = (path or cache_path()).read_bytes()
    except OSError:
        return None
    stream = io.BytesIO(data)
    try:
        index = pickle.load(stream)
    except Exception:  # any corrupt, truncated or foreign file is just a miss
        return None
    if not (isinstance(index, tuple) and len(index) == 6 and index[:2] == (FORMAT, key)):
        return None
    _format, _key, size, check, (topics, difficulties), problems = index
    stored = data[stream.tell():]
    if (len(stored) != size or not isinstance(check, int) or not isinstance(topics, dict)
            or not isinstance(difficulties, dict) or not isinstance(problems, list)):
        return None
    return CachedBank(Listing(topics, difficulties), problems, stored, check, reload or _fresh)


def write_cache(key: str, bank: Bank, path: Path | None = None) -> bool:
    """Store ``bank`` under ``key`` atomically; False (and no cache) if that fails."""
    from dlprep.atomic import replace_atomically  # only a miss writes: startup speed

    target = path or cache_path()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        blobs = {card_id: pickle.dumps(card, protocol=pickle.HIGHEST_PROTOCOL)
                 for card_id, card in bank.cards.items()}
        stored = pickle.dumps((blobs, bank.origins), protocol=pickle.HIGHEST_PROTOCOL)
        # two plain dicts rather than a record per card: the home screen unpickles them all
        listing = tuple(listing_of(bank.cards))
        index = (FORMAT, key, len(stored), zlib.crc32(stored), listing, bank.problems)
        data = pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL) + stored
        replace_atomically(target, lambda temp: temp.write_bytes(data), sync=False)
    except (OSError, pickle.PicklingError):
        return False
    return True


def _fresh(extra: Sequence[str] = (), *, builtin: bool = True, key: str | None = None) -> Bank:
    """Load the files and cache what they hold now (under ``key``, made before the load, or a
    key made now)."""
    from dlprep.bank.loader import load_bank

    key = key or bank_key(extra, builtin=builtin)
    bank = load_bank(extra, builtin=builtin)
    write_cache(key, bank)
    return bank


def open_bank(extra: Sequence[str] = (), *, builtin: bool = True) -> Bank | CachedBank:
    """:func:`dlprep.bank.loader.load_bank`, served from the cache while its inputs match
    (its cards then unpickled on first use)."""
    key = bank_key(extra, builtin=builtin)
    cached = read_cache(key, reload=lambda: _fresh(extra, builtin=builtin))
    return cached if cached is not None else _fresh(extra, builtin=builtin, key=key)


def load_bank(extra: Sequence[str] = (), *, builtin: bool = True) -> Bank:
    """:func:`dlprep.bank.loader.load_bank`, served from the cache while its inputs match."""
    found = open_bank(extra, builtin=builtin)
    return found.bank() if isinstance(found, CachedBank) else found
