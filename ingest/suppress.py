"""Minimum group size: small groups merge into "(other)", so no total minus rows reveals them."""

from __future__ import annotations

from dataclasses import dataclass, field

OTHER = "(other)"
ALL = "(all)"
NO_ORG = "(none)"


@dataclass
class Group:
    """People behind a figure plus additive figures (sums), keyed by the group's name."""

    key: str
    persons: set[str] = field(default_factory=set)
    sums: dict[str, float] = field(default_factory=dict)

    def add(self, person: str, **values: float) -> None:
        """Counts a person in the group and adds their figures to the sums."""
        self.persons.add(person)
        for name, v in values.items():
            self.sums[name] = self.sums.get(name, 0.0) + v

    def absorb(self, other: Group) -> None:
        """Merges another group's people and sums into this one."""
        self.persons |= other.persons
        for name, v in other.sums.items():
            self.sums[name] = self.sums.get(name, 0.0) + v


def merge_small(groups: list[Group], k: int) -> list[Group]:
    """The groups safe to show: each has >= k people, and so has what the total leaves over.

    Groups under k merge into OTHER. If OTHER itself stays under k, the smallest shown
    groups join it until it reaches k (so total - shown rows never isolates fewer than k
    people); when even all together stay under k, nothing is shown.
    """
    shown = sorted(
        (g for g in groups if len(g.persons) >= k), key=lambda g: (len(g.persons), g.key)
    )
    small = [g for g in groups if len(g.persons) < k]
    if not small:
        return sorted(shown, key=lambda g: g.key)
    other = Group(OTHER)
    for g in small:
        other.absorb(g)
    while len(other.persons) < k and shown:
        other.absorb(shown.pop(0))
    result = sorted(shown, key=lambda g: g.key)
    if len(other.persons) >= k:
        result.append(other)
    return result


def nested_safe(inner: Group, outer: Group, k: int) -> bool:
    """False when inner is a subset of outer and their difference is 1..k-1 people: showing
    both would isolate those few (a tool's row beside all tools', an org within all)."""
    if not inner.persons <= outer.persons:
        return True
    return not 0 < len(outer.persons - inner.persons) < k


def total(groups: list[Group], k: int) -> Group | None:
    """The ALL group over every input group, or None when it has fewer than k people."""
    whole = Group(ALL)
    for g in groups:
        whole.absorb(g)
    return whole if len(whole.persons) >= k else None


def suppress_cells(
    table: list[list[int]], k: int, *, has_total_row: bool
) -> list[list[int | None]]:
    """Counts under k (and above 0) become None, with complementary cells, so that no
    row (people = sum of its cells) nor column (total row = sum of the rows above)
    leaves exactly one hidden cell to solve for. The last row is the total row if any."""
    hidden = {(r, c) for r, row in enumerate(table) for c, n in enumerate(row) if 0 < n < k}
    parts = len(table) - 1 if has_total_row else len(table)
    constraints = [[(r, c) for c in range(len(row))] for r, row in enumerate(table)]
    if has_total_row and table:
        constraints += [[(r, c) for r in range(len(table))] for c in range(len(table[0]))]

    def cost(cell: tuple[int, int]) -> tuple[bool, bool, int]:
        # The smallest figure other than the total says least; zeros say nothing.
        n = table[cell[0]][cell[1]]
        return (n == 0, cell[0] >= parts, n)

    changed = True
    while changed:
        changed = False
        for cells in constraints:
            shown = [cell for cell in cells if cell not in hidden]
            if len(cells) - len(shown) != 1 or not shown:
                continue
            hidden.add(min(shown, key=cost))
            changed = True
    return [
        [None if (r, c) in hidden else n for c, n in enumerate(row)] for r, row in enumerate(table)
    ]
