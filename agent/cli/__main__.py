"""`python -m aitally.agent.cli`: the command line service definitions start the agent with."""

import sys

from aitally.agent.cli import main

sys.exit(main())
