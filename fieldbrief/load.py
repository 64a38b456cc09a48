"""Stage 1, load: read a brief's YAML into plain Python values, remembering positions.

In: a file path. Out: a :class:`LoadedFile` holding the data (as ``yaml.safe_load``
would build it) and the line and column of every key and value, so that later
stages can point at the exact place of a mistake. Problems found here (unreadable
bytes, YAML syntax, duplicate keys, a document that is not a mapping) are raised
as :class:`~fieldbrief.errors.InvalidInput`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fieldbrief.errors import InvalidInput, Problem, display_path

FieldPath = tuple[str | int, ...]
Position = tuple[int, int]

MAX_NODES = 100_000
"""Bound on values built per file, so aliases cannot multiply a small file (alias bomb)."""
PLAIN_COLLECTION_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
MAX_DEPTH = 50
"""Bound on nesting: a brief is a few levels deep; thousands of levels are an attack."""


@dataclass
class LoadedFile:
    """A YAML document as data plus the position of every value and key in it."""

    path: Path
    raw: bytes
    data: Any
    value_positions: dict[FieldPath, Position] = field(default_factory=dict)
    key_positions: dict[FieldPath, Position] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return display_path(self.path)

    def position_of(self, path: FieldPath, *, key: bool = False) -> Position:
        """Best position for ``path``: its key or value, else its nearest ancestor's."""
        positions = self.key_positions if key else self.value_positions
        for end in range(len(path), -1, -1):
            prefix = path[:end]
            if prefix in positions:
                return positions[prefix]
            if prefix in self.value_positions:
                return self.value_positions[prefix]
        return (1, 1)


DEFAULT_MAX_BYTES = 1024 * 1024


def load_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> LoadedFile:
    """Read and parse one YAML file; raise InvalidInput naming the file and position."""
    size = path.stat().st_size
    if size > max_bytes:
        raise _problem(path, (1, 1), "", f"the file is {size} bytes, more than the limit of "
                       f"{max_bytes} (max_brief_bytes in site.yaml)")
    raw = path.read_bytes()
    text = _decode(path, raw)
    if not text.strip():
        raise _problem(path, (1, 1), "", "the file is empty; a brief is a YAML mapping of fields")
    try:
        loader = _BoundedLoader(text)
    except yaml.reader.ReaderError as error:
        raise _problem(path, _text_position(text, error.position), "",
                       f"character U+{error.character:04X} is not allowed in YAML; remove it")
    try:
        root = loader.get_single_node()
        builder = _Builder(path, loader)
        data = builder.build(root, ())
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        position = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise _problem(path, position, "", _syntax_message(error))
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise _problem(path, builder.value_positions.get((), (1, 1)), "",
                       "the document must be a mapping of fields (key: value), "
                       f"not {_kind_of(data)}")
    return LoadedFile(path, raw, data, builder.value_positions, builder.key_positions)


SYNTAX_HINTS = {
    "found character '\\t'": "tabs cannot indent YAML; use spaces",
    "expected <block end>": "check the indentation of this line against the lines above",
    "mapping values are not allowed": "a ': ' inside a value? put the whole value in quotes",
    "could not find expected ':'": "a field needs 'name: value'; is a quote left open?",
    "found undefined alias": "an '*' starts an alias in YAML; put the value in quotes",
    "found unexpected end of stream": "a quote or bracket is left open",
}


def _syntax_message(error: yaml.MarkedYAMLError) -> str:
    problem = str(error.problem or error.context)
    hint = next((text for start, text in SYNTAX_HINTS.items() if problem.startswith(start)), "")
    return f"invalid YAML: {problem}" + (f" ({hint})" if hint else "")


class _BoundedLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses deep nesting before its recursive composer overflows."""

    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"values are nested more than {MAX_DEPTH} levels deep",
                    self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _text_position(text: str, index: int) -> Position:
    before = text[:index]
    return (before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1)


def _decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        raise _problem(path, (line, column), "",
                       f"byte 0x{raw[error.start]:02x} is not valid UTF-8; save the file as UTF-8")


class _Builder:
    """Turns composed YAML nodes into Python values, recording positions on the way."""

    def __init__(self, path: Path, loader: _BoundedLoader) -> None:
        self.path = path
        self.loader = loader
        self.value_positions: dict[FieldPath, Position] = {}
        self.key_positions: dict[FieldPath, Position] = {}
        self.visited = 0

    def build(self, node: yaml.Node | None, path: FieldPath) -> Any:
        if node is None:
            return None
        self.visited += 1
        if self.visited > MAX_NODES:
            raise _problem(self.path, _start(node), dotted(path),
                           f"the document has more than {MAX_NODES} values (alias expansion?)")
        self.value_positions[path] = _start(node)
        if not isinstance(node, yaml.ScalarNode) and node.tag not in PLAIN_COLLECTION_TAGS:
            raise _problem(self.path, _start(node), dotted(path),
                           f"the YAML tag {node.tag!r} is not allowed; remove it")
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (index,)) for index, item in enumerate(node.value)]
        try:
            return self.loader.construct_object(node, deep=True)
        except ValueError:  # a timestamp such as 2026-02-30: validation reports it
            return node.value

    def _mapping(self, node: yaml.MappingNode, path: FieldPath) -> dict[str, Any]:
        self.loader.flatten_mapping(node)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise _problem(self.path, _start(key_node), dotted(path),
                               "a field name must be plain text, not a list or mapping")
            key = str(key_node.value)
            if key in result:
                first = self.key_positions[path + (key,)]
                raise _problem(self.path, _start(key_node), dotted(path + (key,)),
                               f"duplicate field '{key}' (first given on line {first[0]})")
            self.key_positions[path + (key,)] = _start(key_node)
            result[key] = self.build(value_node, path + (key,))
        return result


def _start(node: yaml.Node) -> Position:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def dotted(path: FieldPath) -> str:
    """Render ('figures', 0, 'sources') as 'figures[0].sources'."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _kind_of(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty"
    return f"a single value ({value!r})"


def _problem(path: Path, position: Position, field_path: str, message: str) -> InvalidInput:
    return InvalidInput([Problem(display_path(path), position[0], position[1], field_path, message)])


