"""Shell completions (bash, zsh, fish) for an argparse program, generated from its parser.

Each script holds one table, built here from the parser: for every command path ("", "config",
"config show"...) its subcommands, options, and the values an option or positional takes.
So a completion can never offer a command or option the program does not have.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Callable

from aitally.core.cli_help import Option, options, positional_choices, subcommands

SHELLS = ("bash", "zsh", "fish")
HEADER = "# {shell} completion for {prog}, generated from its argparse parser; do not edit.\n"


def _paths(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    """("", parser) and every subcommand by its full name."""
    return [("", parser)] + [(name, sub) for name, sub, _ in subcommands(parser)]


def _children(parser: argparse.ArgumentParser, path: str) -> list[str]:
    """The subcommand names directly under `path`."""
    depth = len(path.split()) if path else 0
    return [
        name.split()[-1]
        for name, _, _ in subcommands(parser)
        if len(name.split()) == depth + 1 and name.startswith(f"{path} " if path else "")
    ]


def _words(values: list[str] | tuple[str, ...]) -> str:
    """Shell words, each quoted (choices and flags are plain, but a parser may say otherwise)."""
    return " ".join(shlex.quote(v) for v in values)


def _func(prog: str) -> str:
    return "_" + prog.replace("-", "_")


def _case_blocks(
    parser: argparse.ArgumentParser, words: str, first: int, last: str,
    value_action: Callable[[Option], str],
) -> list[str]:  # fmt: skip
    """The body bash and zsh share (both read `case` and arrays alike): find the command path
    in `words[first..last)`, answer an option's value, else set `subs` and `opts`."""
    names = "|".join(f'"{name}"' for name, _, _ in subcommands(parser)) or '""'
    lines = [
        "# The command path: the leading words that name (nested) subcommands.",
        f"for ((i = {first}; i < {last}; i++)); do",
        f'    next="${{cmdpath:+$cmdpath }}${{{words}[i]}}"',
        f'    case "$next" in ({names}) cmdpath="$next" ;; esac',
        "done",
        'case "$cmdpath|$prev" in',
    ]
    for path, sub in _paths(parser):
        for opt in options(sub):
            if opt.takes_value:
                lines += [f'    ("{path}|{f}") {value_action(opt)}; return ;;' for f in opt.flags]
    lines += ["esac", 'case "$cmdpath" in']
    for path, sub in _paths(parser):
        subs = _children(parser, path) + list(positional_choices(sub))
        flags = [f for opt in options(sub) for f in opt.flags]
        lines.append(f'    ("{path}") subs=({_words(subs)}); opts=({_words(flags)}) ;;')
    return [*lines, "esac"]


def _bash_value(opt: Option) -> str:
    # A free-form value (a date, a URL) gets no suggestions rather than command names.
    if opt.choices:
        return f'COMPREPLY=($(compgen -W {shlex.quote(" ".join(opt.choices))} -- "$cur"))'
    return 'COMPREPLY=($(compgen -f -- "$cur"))' if opt.is_path else "COMPREPLY=()"


def bash(parser: argparse.ArgumentParser) -> str:
    """A bash completion script: source it, or install it as bash-completion's `PROG` file."""
    prog, func = parser.prog, _func(parser.prog)
    body = [
        'local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
        'local cmdpath="" i next',
        "local -a subs=() opts=()",
        *_case_blocks(parser, "COMP_WORDS", 1, "COMP_CWORD", _bash_value),
        'if [[ "$cur" == -* ]]; then',
        '    COMPREPLY=($(compgen -W "${opts[*]}" -- "$cur"))',
        "else",
        '    COMPREPLY=($(compgen -W "${subs[*]}" -- "$cur"))',
        "fi",
    ]
    lines = [HEADER.format(shell="bash", prog=prog), f"{func}() {{"]
    lines += [f"    {line}" for line in body]
    lines += ["}", f"complete -F {func} {prog}", ""]
    return "\n".join(lines)


def _zsh_value(opt: Option) -> str:
    if opt.choices:
        return f"compadd -- {_words(opt.choices)}"
    return "_files" if opt.is_path else "_message value"


def zsh(parser: argparse.ArgumentParser) -> str:
    """A zsh completion function: install it as `_PROG` in a directory of `$fpath`."""
    prog = parser.prog
    lines = [
        f"#compdef {prog}",
        HEADER.format(shell="zsh", prog=prog),
        # `path` is zsh's own array tied to $PATH, hence `cmdpath`.
        'local cmdpath="" next i cur="${words[CURRENT]}" prev="${words[CURRENT-1]}"',
        "local -a subs opts",
        *_case_blocks(parser, "words", 2, "CURRENT", _zsh_value),
        'if [[ "$cur" == -* ]]; then compadd -- "${opts[@]}"; else compadd -- "${subs[@]}"; fi',
        "",
    ]
    return "\n".join(lines)


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def fish(parser: argparse.ArgumentParser) -> str:
    """A fish completion script: install it as `vendor_completions.d/PROG.fish`."""
    prog, func = parser.prog, f"_{_func(parser.prog)}_at"
    lines = [HEADER.format(shell="fish", prog=prog)]
    lines += [
        f"function {func} --description 'true when the {prog} subcommand path typed is $argv'",
        "    set -l cmdpath",
        "    for w in (commandline -opc)[2..-1]",
        "        set -l next (string join ' ' -- $cmdpath $w)",
        "        switch $next",
    ]
    for name, _, _ in subcommands(parser):
        lines.append(f"            case {_fish_quote(name)}")
        lines.append("                set cmdpath $cmdpath $w")
    lines += [
        "        end",
        "    end",
        '    test "$argv" = "$cmdpath"',
        "end",
        f"complete -c {prog} -f",
    ]
    helps = {name: one_line for name, _, one_line in subcommands(parser)}
    for path, sub in _paths(parser):
        when = "-n " + _fish_quote(f"{func} {shlex.quote(path)}" if path else func)
        for child in _children(parser, path):
            full = f"{path} {child}".strip()
            lines.append(
                f"complete -c {prog} {when} -a {_fish_quote(child)} -d {_fish_quote(helps[full])}"
            )
        for value in positional_choices(sub):
            lines.append(f"complete -c {prog} {when} -a {_fish_quote(value)}")
        for opt in options(sub):
            flags = " ".join(
                f"-l {f[2:]}" if f.startswith("--") else f"-s {f[1:]}" for f in opt.flags
            )
            value = ""
            if opt.choices:
                value = f" -x -a {_fish_quote(' '.join(opt.choices))}"
            elif opt.is_path:
                value = " -r -F"
            elif opt.takes_value:
                value = " -x"
            lines.append(f"complete -c {prog} {when} {flags}{value} -d {_fish_quote(opt.help)}")
    return "\n".join(lines) + "\n"


def render(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script of `parser`'s program for `shell` (one of SHELLS)."""
    return {"bash": bash, "zsh": zsh, "fish": fish}[shell](parser)
