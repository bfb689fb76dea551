"""``python -m chartship``: the same command as ``chartship``."""

import sys

from chartship.cli import main

if __name__ == "__main__":
    main([sys.argv[0].replace("__main__.py", "chartship"), *sys.argv[1:]])
