"""Reads remembered for the length of one batch of device records.

A batch of 500 gate records that fires rules asks the same questions again and again: who
answers for this compound, which channels serve this district, what is this building called.
Inside `remembered()` such lookups keep their answers; outside it they read afresh each time.
Only what does not change within the batch's one transaction belongs here (grants, channels,
area names), never the state the batch itself changes (open follow-ups).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

_MEMO: ContextVar[dict[str, dict[Any, Any]] | None] = ContextVar("louzhang_memo", default=None)


@contextmanager
def remembered() -> Iterator[None]:
    if _MEMO.get() is not None:  # already inside one: the outer batch owns the memo
        yield
        return
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def memo(name: str) -> dict[Any, Any] | None:
    """The current batch's memo called `name` (a dict to read and fill), or None outside
    `remembered()`."""
    current = _MEMO.get()
    return None if current is None else current.setdefault(name, {})


COMPOUND_DEPTH = 5  # areas.models.Level.COMPOUND: the level whose subtree is read whole


def by_path(name: str, paths: list[str],
            read: Callable[[list[str], list[str]], Iterable[tuple[str, T]]], *,
            subtrees: bool = True) -> dict[str, list[T]]:
    """What is held at each of the area `paths` (grants, channels …), as `read(exact,
    compounds)` finds it: items at exactly the `exact` paths, and everything below each of the
    `compounds`. Outside `remembered()` every path is read exactly; inside, answers are kept,
    and a path below a compound reads the compound's whole subtree once, so the next household
    of the same compound asks nothing (`subtrees=False`: only exact paths are ever read, for
    what is plentiful below a compound)."""
    found: dict[str, list[T]] | None = memo(name)
    read_below: dict[str, bool] | None = memo(name + ":compounds")
    if found is None or read_below is None:
        result: dict[str, list[T]] = {p: [] for p in paths}
        for path, item in read(paths, []):
            result[path].append(item)
        return result

    def known(path: str) -> bool:
        return path in found or (_depth(path) > COMPOUND_DEPTH and _head(path, COMPOUND_DEPTH) in read_below)

    missing = [p for p in paths if not known(p)]
    if missing:
        compounds = sorted({_head(p, COMPOUND_DEPTH) for p in missing if _depth(p) > COMPOUND_DEPTH}
                           - read_below.keys()) if subtrees else []
        for path in missing:
            found[path] = []
        for compound in compounds:
            read_below[compound] = True
        for path, item in read(missing, compounds):
            found.setdefault(path, []).append(item)
    return {p: found.get(p, []) for p in paths}


def _depth(path: str) -> int:
    """The level of the area at `path`: /city/district/…/ has one part per level."""
    return path.count("/") - 1


def _head(path: str, depth: int) -> str:
    """The path of the ancestor at `depth` (the path itself at its own depth)."""
    return "/" + "/".join(path.strip("/").split("/")[:depth]) + "/"
