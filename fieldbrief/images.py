"""Structural bounds for SVG images, checked before WeasyPrint parses or draws one.

A few kilobytes of SVG can ask for billions of drawn elements: ``<use>`` copies an
element, so nested ``<use>`` elements multiply (a "use bomb"), and a DOCTYPE can
declare entities that expand the same way. WeasyPrint draws whatever it is given,
so an image that exceeds these bounds is refused before it gets there.

In: the bytes of a file that may be an SVG. Out: why it is refused, or None. Bytes
that are not XML (a PNG, a JPEG) are not this module's business and pass.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

MAX_DRAWN_ELEMENTS = 20_000
"""Elements an SVG may draw, counting every copy a ``<use>`` makes."""
MAX_NESTING = 100
"""How deep elements may nest (WeasyPrint draws them recursively)."""
MAX_USE_DEPTH = 8
"""How many ``<use>`` references may follow one another (a use of a use of ...)."""


MAX_IMAGE_BYTES = 32 * 2**20
"""Largest image (or other resource) a brief's page or PDF may load."""


def image_file_problem(path: Path) -> str | None:
    """Why the local image ``path`` cannot be a map, or None: too large, an SVG beyond
    the bounds of :func:`svg_problem`, or bytes no image reader can decode. ``check``
    asks this, so that what it accepts also renders."""
    size = path.stat().st_size
    if size > MAX_IMAGE_BYTES:
        return f"the image is {size} bytes, more than the {MAX_IMAGE_BYTES // 2**20} MiB allowed"
    data = path.read_bytes()
    if data.lstrip()[:1] == b"<":
        return svg_problem(data)
    import PIL.Image  # ~10 ms: loaded only for a brief whose map is a raster image

    try:
        with PIL.Image.open(io.BytesIO(data)) as image:
            image.verify()
    except Exception:  # noqa: BLE001 (Pillow raises many kinds for undecodable bytes)
        return "the file is not an image that can be drawn (PNG, JPEG, GIF, WebP or SVG)"
    return None


class SvgRefused(Exception):
    """The SVG exceeds a bound; the message says which."""


@dataclass
class _Subtree:
    """An element's subtree: its size, and how often it uses each referenced id."""

    size: int = 1
    uses: Counter[str] = field(default_factory=Counter)


def svg_problem(data: bytes) -> str | None:
    """Why the image ``data`` may not be drawn, or None when it may (or is not XML)."""
    try:
        trees = _scan(data)
    except SvgRefused as refused:
        return str(refused)
    if trees is None:
        return None
    try:
        _Expansion(trees).drawn(trees[""].uses, depth=1, total=trees[""].size)
    except SvgRefused as refused:
        return str(refused)
    return None


def _scan(data: bytes) -> dict[str, _Subtree] | None:
    """The document's subtree (key "") and the subtree of every element with an id;
    None if ``data`` is not well-formed XML and no bound was crossed before that showed."""
    parser = expat.ParserCreate(namespace_separator=" ")
    stack: list[tuple[str | None, _Subtree]] = [(None, _Subtree(size=0))]
    trees: dict[str, _Subtree] = {}
    count = 0

    def refuse_doctype(*_: object) -> None:
        raise SvgRefused("an SVG may not have a DOCTYPE (its entities could expand without bound)")

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal count
        count += 1
        if count > MAX_DRAWN_ELEMENTS:
            raise SvgRefused(f"the SVG has more than {MAX_DRAWN_ELEMENTS} elements")
        if len(stack) > MAX_NESTING:
            raise SvgRefused(f"the SVG nests elements more than {MAX_NESTING} deep")
        subtree = _Subtree()
        if _local(name) == "use":
            subtree.uses[_use_target(attributes)] += 1
        stack.append((attributes.get("id"), subtree))

    def end(_: str) -> None:
        element_id, subtree = stack.pop()
        parent = stack[-1][1]
        parent.size += subtree.size
        parent.uses.update(subtree.uses)
        if element_id:
            trees.setdefault(element_id, subtree)

    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.EntityDeclHandler = refuse_doctype
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except expat.ExpatError:
        return None
    trees[""] = stack[0][1]
    return trees


def _local(name: str) -> str:
    return name.rpartition(" ")[2]


def _use_target(attributes: dict[str, str]) -> str:
    """The id a ``<use>`` copies; only references inside the same file are allowed."""
    href = next((value for name, value in attributes.items() if _local(name) == "href"), "")
    if not href.startswith("#"):
        raise SvgRefused(f"a <use> may only copy an element of the same SVG (#id), not {href!r}")
    return href[1:]


class _Expansion:
    """Counts the elements drawn once ``<use>`` references are expanded, stopping at
    the first bound crossed."""

    def __init__(self, trees: dict[str, _Subtree]) -> None:
        self.trees = trees
        self.done: dict[str, tuple[int, int]] = {}  # id: (elements drawn, <use> chain below)
        self.open: set[str] = set()

    def drawn(self, uses: Counter[str], depth: int, total: int) -> tuple[int, int]:
        """``total`` plus the elements drawn by ``uses`` found ``depth`` uses deep, and
        the longest chain of uses they start."""
        chain = 0
        for target, times in uses.items():
            size, below = self.size(target, depth)
            total, chain = total + times * size, max(chain, below + 1)
            if total > MAX_DRAWN_ELEMENTS:
                raise SvgRefused(f"the SVG draws more than {MAX_DRAWN_ELEMENTS} elements "
                                 "once its <use> references are expanded")
        return total, chain

    def size(self, target: str, depth: int) -> tuple[int, int]:
        """Elements drawn by one copy of the element ``target`` (0 if there is none),
        and the longest chain of uses inside it."""
        if target in self.open:
            raise SvgRefused(f"the SVG's <use> references form a cycle through #{target}")
        if depth > MAX_USE_DEPTH:
            raise SvgRefused(f"the SVG nests <use> references more than {MAX_USE_DEPTH} deep")
        if target not in self.done and target in self.trees:
            self.open.add(target)
            tree = self.trees[target]
            self.done[target] = self.drawn(tree.uses, depth + 1, tree.size)
            self.open.discard(target)
        size, chain = self.done.get(target, (0, 0))
        if depth + chain > MAX_USE_DEPTH:
            raise SvgRefused(f"the SVG nests <use> references more than {MAX_USE_DEPTH} deep")
        return size, chain
