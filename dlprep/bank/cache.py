"""A cache of the loaded, validated bank, so the quiz skips YAML parsing and validation.

The whole :class:`Bank` (runtime cards, origins, problems) is pickled in the user cache dir
under a key made of everything that can change what loading returns: the card files' paths
and contents, the demo files (demo links are checked against their ``META``), dlprep's own
bank and registry code, the Python, pydantic and dlprep versions and the working
directory (problem locations are written relative to it). The cards are plain dataclasses
and pydantic's version is read from its ``version.py`` without importing it, so a hit never
imports pydantic (or yaml). Contents are hashed rather
than trusted to mtimes, whose coarse resolution would let a quick same-size edit through.

A cache that is missing, unreadable, corrupt or made for another key is a miss: the bank
is loaded normally and the cache rewritten. Failing to write it is never an error.
"""

from __future__ import annotations

import importlib.machinery
import os
import pickle
import sys
from collections.abc import Sequence
from pathlib import Path

from dlprep import __version__
from dlprep.atomic import replace_atomically
from dlprep.bank import loader
from dlprep.bank.files import CardFileError, read_card_file
from dlprep.bank.loader import Bank, card_files
from dlprep.paths import demos_dir

try:  # importing hashlib also sets up OpenSSL's hashes, which the key does not use
    from _blake2 import blake2b
except ImportError:  # a Python built without its own BLAKE2
    from hashlib import blake2b

CACHE_NAME = "bank.pickle"
FORMAT = 2  # bump when what is pickled changes shape (2: runtime cards, not pydantic models)
_CODE = Path(__file__).resolve().parent


def cache_dir() -> Path:
    """``DLPREP_HOME/cache`` when DLPREP_HOME is set (tests), else the platform's cache dir."""
    home = os.environ.get("DLPREP_HOME")
    if home:
        return Path(home).expanduser() / "cache"
    from platformdirs import user_cache_dir  # imported lazily: startup speed

    return Path(user_cache_dir("dlprep", appauthor=False))


def cache_path() -> Path:
    return cache_dir() / CACHE_NAME


def bank_key(extra: Sequence[str] = (), *, builtin: bool = True) -> str:
    """A digest of every input of :func:`dlprep.bank.loader.load_bank` for these paths.

    Raises :class:`~dlprep.bank.loader.BankPathError` for a missing path, as loading would.
    """
    digest = blake2b(digest_size=20)
    header = (FORMAT, __version__, sys.version, os.getcwd(), builtin)
    digest.update(repr(header).encode())
    version_file = pydantic_version_file()
    if version_file is not None:
        _add_file(digest, version_file)
    # Through ``loader``'s names, so whatever the loader would read is what gets hashed.
    sources = [loader.builtin_bank_dir()] if builtin else []
    sources += loader.user_bank_paths(extra)
    for source in sources:
        digest.update(b"\0source\0" + str(source).encode())
        for path in card_files(source):
            _add_card_file(digest, path)
    code = sorted(_CODE.glob("*.py")) + [_CODE.parent / "registry.py"]
    # a demo's META check runs at validation, and gpu-memory's runs memcalc's estimator
    code += sorted((_CODE.parent / "memcalc").rglob("*.py"))
    for path in code + sorted(demos_dir().glob("*.py")):
        _add_file(digest, path)
    return digest.hexdigest()


def pydantic_version_file() -> Path | None:
    """Pydantic's ``version.py``, found without importing pydantic (a hit must not need it).

    Pydantic's version decides what validates. That file names both it and the pydantic-core
    it requires (pydantic refuses to import with another), so its contents stand for both.
    """
    spec = importlib.machinery.PathFinder.find_spec("pydantic")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "version.py"


def _add_file(digest: blake2b, path: Path) -> None:
    digest.update(b"\0file\0" + str(path).encode() + b"\0")
    try:
        digest.update(path.read_bytes())
    except OSError as exc:  # the loader reports unreadable files; the key just records it
        digest.update(f"unreadable: {exc.errno}".encode())


def _add_card_file(digest: blake2b, path: Path) -> None:
    # Read as the loader reads it: capped, and never blocking on a FIFO named *.yaml.
    digest.update(b"\0card\0" + str(path).encode() + b"\0")
    try:
        digest.update(read_card_file(path))
    except CardFileError as exc:  # the loader reports it; the key just records it
        digest.update(str(exc).encode())


def read_cache(key: str, path: Path | None = None) -> Bank | None:
    """The cached bank for ``key``, or None if there is none or it cannot be trusted."""
    try:
        data = (path or cache_path()).read_bytes()
    except OSError:
        return None
    try:
        stored = pickle.loads(data)
    except Exception:  # any corrupt, truncated or foreign file is just a miss
        return None
    if (
        not isinstance(stored, tuple)
        or len(stored) != 2
        or stored[0] != key
        or not isinstance(stored[1], Bank)
    ):
        return None
    bank: Bank = stored[1]
    return bank


def write_cache(key: str, bank: Bank, path: Path | None = None) -> bool:
    """Store ``bank`` under ``key`` atomically; False (and no cache) if that fails."""
    target = path or cache_path()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        data = pickle.dumps((key, bank), protocol=pickle.HIGHEST_PROTOCOL)
        replace_atomically(target, lambda temp: temp.write_bytes(data), sync=False)
    except (OSError, pickle.PicklingError):
        return False
    return True


def load_bank(extra: Sequence[str] = (), *, builtin: bool = True) -> Bank:
    """:func:`dlprep.bank.loader.load_bank`, served from the cache while its inputs match."""
    key = bank_key(extra, builtin=builtin)
    bank = read_cache(key)
    if bank is None:
        bank = loader.load_bank(extra, builtin=builtin)
        write_cache(key, bank)
    return bank
