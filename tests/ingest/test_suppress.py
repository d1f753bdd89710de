"""People counted as classes (aitally.ingest.suppress.People) give the same sizes as the same
people one by one, through every set operation the reports use, and so the same suppression."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from aitally.ingest.suppress import Group, People, merge_small, nested_safe, total

# A class: (name, how many people); a set of classes is a set of people, the class's
# people named "<class>#<i>".
Classes = st.dictionaries(st.sampled_from("abcdefgh"), st.integers(1, 6), max_size=6)


def as_classes(classes: dict[str, int]) -> People:
    out = People()
    for name, n in classes.items():
        out.add(name, n)
    return out


def as_people(classes: dict[str, int]) -> set[str]:
    return {f"{name}#{i}" for name, n in classes.items() for i in range(n)}


@given(Classes, Classes)
def test_class_arithmetic_equals_people_arithmetic(x: dict[str, int], y: dict[str, int]) -> None:
    # One class has one size wherever it appears, as a period's profile does.
    y = {name: x.get(name, n) for name, n in y.items()}
    a, b = as_classes(x), as_classes(y)
    p, q = as_people(x), as_people(y)
    assert len(a) == len(p) and len(a & b) == len(p & q) and len(a - b) == len(p - q)
    assert (a <= b) == (p <= q)
    union = as_classes(x)
    union |= b
    assert len(union) == len(p | q)
    for member in list(union):
        union.add(member, 99)  # a member already there keeps its weight
    assert len(union) == len(p | q)


@given(st.lists(Classes, max_size=6), st.integers(1, 8))
def test_suppression_of_classes_equals_that_of_people(groups: list[dict[str, int]], k: int) -> None:
    sizes: dict[str, int] = {}
    for g in groups:  # one size per class, as above
        for name, n in g.items():
            sizes.setdefault(name, n)
    by_class = [Group(f"g{i}", as_classes({c: sizes[c] for c in g})) for i, g in enumerate(groups)]
    by_person = [Group(f"g{i}", as_people({c: sizes[c] for c in g})) for i, g in enumerate(groups)]
    shown_c, shown_p = merge_small(by_class, k), merge_small(by_person, k)
    assert [(g.key, len(g.persons)) for g in shown_c] == [(g.key, len(g.persons)) for g in shown_p]
    whole_c, whole_p = total(by_class, k), total(by_person, k)
    assert (whole_c is None) == (whole_p is None)
    if whole_c is not None and whole_p is not None:
        assert len(whole_c.persons) == len(whole_p.persons)
        for c, p in zip(shown_c, shown_p, strict=True):
            assert nested_safe(c, whole_c, k) == nested_safe(p, whole_p, k)
