"""`python -m aitally.cli_docs OUT`: shell completions and man pages of both programs, generated
from their argparse parsers at build time (`make dist`, `make packages`), never written by hand.

It sits beside `__main__` at the top: the one build step that may import both command lines.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from aitally.core import cli_completion, cli_manpage
from aitally.core.cli_args import installed_version


def _programs() -> list[Callable[[], argparse.ArgumentParser]]:
    from aitally.agent.cli import build_parser as agent_parser
    from aitally.ingest.cli import build_parser as ingest_parser

    return [agent_parser, ingest_parser]


def file_names(prog: str) -> dict[str, str]:
    """Kind (bash, zsh, fish, man) -> the file name each shell or `man` looks for."""
    return {"bash": f"{prog}.bash", "zsh": f"_{prog}", "fish": f"{prog}.fish", "man": f"{prog}.1"}


def write(out: Path, version: str | None = None) -> list[Path]:
    """Writes every program's completions and man page into `out`; returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for make_parser in _programs():
        parser = make_parser()
        names = file_names(parser.prog)
        texts = {shell: cli_completion.render(parser, shell) for shell in cli_completion.SHELLS}
        texts["man"] = cli_manpage.render(parser, version or installed_version() or "dev")
        for kind, text in texts.items():
            path = out / names[kind]
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Writes into the folder named by the one argument."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m aitally.cli_docs OUT_FOLDER", file=sys.stderr)
        return 2
    for path in write(Path(args[0])):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
