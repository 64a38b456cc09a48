"""Placeholders: the ``<<...>>`` marks that ``fieldbrief new brief`` writes where the
analyst has still to write something.

Validation (stage 2) reports each one left in a brief as "still a placeholder", at its
line and column, before anything else about that field; a brief holding one is never
valid, so it is never built or published by accident.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fieldbrief.load import FieldPath

PLACEHOLDER = re.compile(r"<<[^<>\n]*>>")
"""A mark such as ``<<one-line title>>``; one anywhere in a text makes it unfinished."""


def placeholders(data: Any, path: FieldPath = ()) -> Iterator[tuple[FieldPath, str]]:
    """Every text in ``data`` (loaded YAML) that still holds a placeholder, with its first
    placeholder, in document order."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from placeholders(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from placeholders(value, (*path, index))
    elif isinstance(data, str) and (found := PLACEHOLDER.search(data)):
        yield path, found[0]
