"""`dlprep export anki` of the whole bank as a ratio to `python -c pass`, in the same run.

Target (issue 15): the whole bank to .apkg in under 2 s, importing no torch (the test
suite proves the import; here we time it). Also times `--save-notebook` for one demo.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import command_time, verdict  # noqa: E402


def main() -> int:
    exe = shutil.which("dlprep", path=str(Path(sys.executable).parent)) or "dlprep"
    base = command_time([sys.executable, "-c", "pass"])
    with tempfile.TemporaryDirectory() as folder:
        deck = str(Path(folder) / "dlprep.apkg")
        notebook = str(Path(folder) / "demo.ipynb")
        cases = [
            ("anki, whole bank, --lang both", [exe, "export", "anki", deck, "--lang", "both",
                                               "--force"], 2.0),
            ("anki, whole bank, --lang en", [exe, "export", "anki", deck, "--force"], 2.0),
            ("notebook, vanishing-gradient", [exe, "demo", "vanishing-gradient",
                                              "--save-notebook", notebook, "--force"], 2.0),
        ]
        print("export: median of 5 runs each")
        print(f"  python -c pass                  {base * 1000:7.1f} ms")
        for name, args, target in cases:
            took = command_time(args, repeat=5)
            print(f"  {name:<30}  {took * 1000:7.1f} ms   {took / base:6.1f}x   "
                  f"[{verdict(took < target)}: target < {target:.0f} s]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
