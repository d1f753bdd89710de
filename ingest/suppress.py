"""Minimum group size: small groups merge into "(other)", so no total minus rows reveals them."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Set
from dataclasses import dataclass, field
from typing import Any, cast

OTHER = "(other)"
ALL = "(all)"
NO_ORG = "(none)"


class People(set[Any]):
    """A set of people whose members are single people or whole classes of them (people who
    look the same to a report, counted together): a class's weight is how many it stands for.

    A report that reads classes of people from the database (never one row per person) then
    runs the same set arithmetic as one that reads people: len is the number of people, and
    union (|=), intersection, difference and subset work member by member. A member keeps
    the weight it was added with.
    """

    def __init__(self, members: Iterable[Hashable] = ()) -> None:
        super().__init__(members)
        self.weights: dict[Hashable, int] = {}
        self._extra = 0  # sum of (weight - 1) over the classes

    def add(self, member: Hashable, weight: int = 1) -> None:
        """Adds a person (weight 1) or a class of `weight` people; again: no change."""
        if member not in self:
            super().add(member)
            if weight != 1:
                self.weights[member] = weight
                self._extra += weight - 1

    def __len__(self) -> int:
        return super().__len__() + self._extra

    def __ior__(self, other: Set[Any]) -> People:  # type: ignore[misc]
        if isinstance(other, People):
            for member, weight in other.weights.items():
                if member not in self:
                    self.weights[member] = weight
                    self._extra += weight - 1
        set.update(self, other)  # in C: a report of single people makes millions of these
        return self

    def _kept(self, members: set[Any]) -> People:
        out = People(members)
        for member, weight in self.weights.items():
            if member in out:
                out.weights[member] = weight
                out._extra += weight - 1
        return out

    def __and__(self, other: Set[object]) -> People:
        return self._kept(set.intersection(self, other))

    def __sub__(self, other: Set[Any]) -> People:
        return self._kept(set.difference(self, other))


@dataclass
class Group:
    """People behind a figure plus additive figures (sums), keyed by the group's name."""

    key: str
    persons: set[Any] = field(default_factory=People)
    sums: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.persons, People):
            self.persons = People(self.persons)

    def add_class(self, member: Hashable, people: int) -> None:
        """Counts a class of that many people (People) in the group."""
        cast(People, self.persons).add(member, people)

    def add(self, person: str, **values: float) -> None:
        """Counts a person in the group and adds their figures to the sums."""
        set.add(self.persons, person)  # a person weighs 1: no bookkeeping of People's
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
    # A subset's difference has the sizes' difference of people (a class of People weighs the
    # same wherever it is a member): no set of the difference to build.
    return not 0 < len(outer.persons) - len(inner.persons) < k


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
