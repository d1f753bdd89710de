"""`python -m aitally`: the `aitally` command line."""

import sys

from aitally.agent.cli import main

sys.exit(main())
