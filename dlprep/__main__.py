import sys

from dlprep.cli import main

sys.exit(main())
