"""`dlprep --help` wall time as a ratio to `python -c pass`, measured in the same run.

Target (issue 2): under 4x.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import command_time, verdict  # noqa: E402


def main() -> int:
    exe = shutil.which("dlprep", path=str(Path(sys.executable).parent)) or "dlprep"
    base = command_time([sys.executable, "-c", "pass"])
    helped = command_time([exe, "--help"])
    version = command_time([exe, "--version"])
    ratio = helped / base
    print("cli_start: median of 15 runs each")
    print(f"  python -c pass      {base * 1000:6.1f} ms")
    print(f"  dlprep --help       {helped * 1000:6.1f} ms   {ratio:.2f}x   "
          f"[{verdict(ratio < 4)}: target < 4x]")
    print(f"  dlprep --version    {version * 1000:6.1f} ms   {version / base:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
