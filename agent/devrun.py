"""`make run`: the agent in the foreground on embedded defaults."""

from __future__ import annotations

import sys

from aitally.agent.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
