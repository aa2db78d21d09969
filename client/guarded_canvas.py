"""The client's canvas view: every writer checks first that this replica may be edited.

A viewer's edits would be refused by the server and stay in the local replica only, which then
silently differs from everyone else's. So each writer asks the client before it touches the
document and raises ``ReadOnlyError`` (replica unchanged) when the server said "viewer".

Every public method of ``Canvas`` that is not a known reader is treated as a writer, so a
writer added to ``Canvas`` later is guarded without a change here (and a reader added later
must be listed in ``READERS``; tests/client/test_roles.py checks the two lists are complete).
Writes made straight through ``client.doc`` or the raw root types (``canvas.layers_array``, ...)
bypass the check.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, Final

from pycrdt import Doc

from canvasdoc.canvas import Canvas

READERS: Final = frozenset(
    {"read_meta", "read_layers", "get_layer", "layer_ids", "history", "to_dict", "content"}
)


def _public_methods(cls: type) -> list[str]:
    return [
        name
        for name, value in inspect.getmembers(cls)
        if not name.startswith("_") and inspect.isfunction(value)
    ]


WRITERS: Final = frozenset(name for name in _public_methods(Canvas) if name not in READERS)


class GuardedCanvas(Canvas):
    """A ``Canvas`` whose writers call ``check(action)`` before writing; ``check`` raises to
    refuse."""

    def __init__(self, doc: Doc[Any], check: Callable[[str], None]) -> None:
        super().__init__(doc)
        self._check = check


def _guard(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def guarded(self: GuardedCanvas, *args: Any, **kwargs: Any) -> Any:
        self._check(name)
        return method(self, *args, **kwargs)

    return guarded


for _name in WRITERS:
    setattr(GuardedCanvas, _name, _guard(_name, getattr(Canvas, _name)))
