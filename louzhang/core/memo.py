"""Reads remembered for the length of one batch of device records.

A batch of 500 gate records that fires rules asks the same questions again and again: who
answers for this compound, which channels serve this district, what is this building called.
Inside `remembered()` such lookups keep their answers; outside it they read afresh each time.
Only what does not change within the batch's one transaction belongs here (grants, channels,
area names), never the state the batch itself changes (open follow-ups).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from louzhang.core.paths import AreaPath

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


def by_path(name: str, paths: Sequence[str],
            read: Callable[[list[str], list[str]], Iterable[tuple[str, T]]], *,
            subtrees_at: int | None = None) -> dict[str, list[T]]:
    """What is held at each of the area `paths` (grants, channels …), as `read(exact, whole)`
    finds it: items at exactly the `exact` paths, and everything below each of the `whole`
    paths. Outside `remembered()` every path is read exactly; inside, answers are kept, and
    with `subtrees_at` (a depth: the compound's, for grants and channels) a path below that
    depth reads its ancestor's whole subtree once, so the next household of the same compound
    asks nothing. Without it only exact paths are ever read (for what is plentiful below)."""
    found: dict[str, list[T]] | None = memo(name)
    read_below: dict[str, bool] | None = memo(name + ":subtrees")
    if found is None or read_below is None:
        result: dict[str, list[T]] = {p: [] for p in paths}
        for path, item in read(list(paths), []):
            result[path].append(item)
        return result

    def head(path: str) -> str | None:
        """The ancestor whose subtree is read whole for `path`, if any."""
        at = AreaPath(path)
        return at.ancestor(subtrees_at) if subtrees_at is not None and at.depth > subtrees_at else None

    missing = [p for p in paths if p not in found and head(p) not in read_below]
    if missing:
        whole = sorted({h for p in missing if (h := head(p)) is not None} - read_below.keys())
        for path in missing:
            found[path] = []
        for path in whole:
            read_below[path] = True
        for path, item in read(missing, whole):
            found.setdefault(path, []).append(item)
    return {p: found.get(p, []) for p in paths}
