"""Shell completions (bash, zsh, fish) for an argparse program, generated from its parser.

Each script holds one table, built here from the parser: for every command path ("", "config",
"config show"...) its subcommands, options, and the values an option or positional takes.
So a completion can never offer a command or option the program does not have.
"""

from __future__ import annotations

import argparse
import shlex

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
    return shlex.quote(" ".join(values))


def _func(prog: str) -> str:
    return "_" + prog.replace("-", "_")


def _value_cases(parser: argparse.ArgumentParser, quote: str) -> list[tuple[str, Option]]:
    """(case pattern `path|flag`, option) for every option that takes a value."""
    cases = []
    for path, sub in _paths(parser):
        for opt in options(sub):
            if opt.takes_value:
                cases += [(f"{quote}{path}|{flag}{quote}", opt) for flag in opt.flags]
    return cases


def bash(parser: argparse.ArgumentParser) -> str:
    """A bash completion script: source it, or install it as bash-completion's `PROG` file."""
    prog, func = parser.prog, _func(parser.prog)
    names = "|".join(f'"{name}"' for name, _, _ in subcommands(parser)) or '""'
    lines = [HEADER.format(shell="bash", prog=prog), f"{func}() {{"]
    lines += [
        '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
        '    local cmdpath="" i next subs="" opts=""',
        "    # The command path: the leading words that name (nested) subcommands.",
        "    for ((i = 1; i < COMP_CWORD; i++)); do",
        '        next="${cmdpath:+$cmdpath }${COMP_WORDS[i]}"',
        f'        case "$next" in {names}) cmdpath="$next" ;; esac',
        "    done",
        '    case "$cmdpath|$prev" in',
    ]
    for pattern, opt in _value_cases(parser, '"'):
        # A free-form value (a date, a URL) gets no suggestions rather than command names.
        action = (
            f'COMPREPLY=($(compgen -W {_words(opt.choices)} -- "$cur"))'
            if opt.choices
            else 'COMPREPLY=($(compgen -f -- "$cur"))'
            if opt.is_path
            else "COMPREPLY=()"
        )
        lines.append(f"        {pattern}) {action}; return ;;")
    lines += ["    esac", '    case "$cmdpath" in']
    for path, sub in _paths(parser):
        subs = _children(parser, path) + list(positional_choices(sub))
        flags = [f for opt in options(sub) for f in opt.flags]
        lines.append(f'        "{path}") subs={_words(subs)}; opts={_words(flags)} ;;')
    lines += [
        "    esac",
        '    if [[ "$cur" == -* ]]; then',
        '        COMPREPLY=($(compgen -W "$opts" -- "$cur"))',
        "    else",
        '        COMPREPLY=($(compgen -W "$subs" -- "$cur"))',
        "    fi",
        "}",
        f"complete -F {func} {prog}",
        "",
    ]
    return "\n".join(lines)


def zsh(parser: argparse.ArgumentParser) -> str:
    """A zsh completion function: install it as `_PROG` in a directory of `$fpath`."""
    prog = parser.prog
    names = "|".join(f'"{name}"' for name, _, _ in subcommands(parser)) or '""'
    lines = [f"#compdef {prog}", HEADER.format(shell="zsh", prog=prog)]
    lines += [
        # `path` is zsh's own array tied to $PATH, hence `cmdpath`.
        'local cmdpath="" next i cur="${words[CURRENT]}" prev="${words[CURRENT-1]}"',
        "local -a subs opts",
        "for ((i = 2; i < CURRENT; i++)); do",
        '    next="${cmdpath:+$cmdpath }${words[i]}"',
        f'    case "$next" in ({names}) cmdpath="$next" ;; esac',
        "done",
        'case "$cmdpath|$prev" in',
    ]
    for pattern, opt in _value_cases(parser, '"'):
        action = (
            f"compadd -- {' '.join(shlex.quote(c) for c in opt.choices)}"
            if opt.choices
            else "_files"
            if opt.is_path
            else "_message value"
        )
        lines.append(f"    ({pattern}) {action}; return ;;")
    lines += ["esac", 'case "$cmdpath" in']
    for path, sub in _paths(parser):
        subs = _children(parser, path) + list(positional_choices(sub))
        flags = [f for opt in options(sub) for f in opt.flags]
        lines.append(
            f'    ("{path}") subs=({" ".join(map(shlex.quote, subs))}); '
            f"opts=({' '.join(map(shlex.quote, flags))}) ;;"
        )
    lines += [
        "esac",
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
