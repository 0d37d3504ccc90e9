"""What every command line of the suite does with bad input (`mbgen` and scripts/): one
sentence on stderr and exit code 2, before anything is written."""

import sys
from typing import NoReturn


def fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)
