"""Stage 1, load: read a brief's YAML into plain Python values, remembering positions.

In: a file path. Out: a :class:`LoadedFile` holding the data (as ``yaml.safe_load``
would build it) and the line and column of every key and value, so that later
stages can point at the exact place of a mistake. Problems found here (unreadable
bytes, YAML syntax, duplicate keys, a document that is not a mapping) are raised
as :class:`~fieldbrief.errors.InvalidInput`.

The values are built from libyaml's event stream (PyYAML's C parser) without
recursion, which is several times faster than composing PyYAML's node tree in
Python and bounds nesting depth and alias expansion as it goes.
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
_Parser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML has it


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
    builder = _Builder(path)
    try:
        data = builder.build(_Parser(text))
    except yaml.reader.ReaderError as error:
        raise _problem(path, _text_position(text, error.position), "",
                       f"character U+{error.character:04X} is not allowed in YAML; remove it") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        position = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise _problem(path, position, "", _syntax_message(error)) from None
    if not isinstance(data, dict):
        raise _problem(path, builder.value_positions.get((), (1, 1)), "",
                       "the document must be a mapping of fields (key: value), "
                       f"not {_kind_of(data)}")
    return LoadedFile(path, raw, data, builder.value_positions, builder.key_positions)


SYNTAX_HINTS = {
    "found a tab character": "tabs cannot indent YAML; use spaces",
    "found character '\\t'": "tabs cannot indent YAML; use spaces",
    "did not find expected key": "check the indentation of this line against the lines above",
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
                       f"byte 0x{raw[error.start]:02x} is not valid UTF-8; save the file as UTF-8") from None


@dataclass
class _Open:
    """A mapping or list being built, with the key waiting for its value (mappings)."""

    value: dict[str, Any] | list[Any]
    path: FieldPath
    anchor: str | None
    size: int = 1  # values built inside it, for the alias-expansion budget
    key: str | None = None
    merges: list[Any] = field(default_factory=list)


class _Builder:
    """Builds Python values from YAML events, recording the position of every key and value."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.value_positions: dict[FieldPath, Position] = {}
        self.key_positions: dict[FieldPath, Position] = {}
        self.resolver = yaml.resolver.Resolver()
        self.constructor = yaml.constructor.SafeConstructor()
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.stack: list[_Open] = []
        self.built = 0

    def build(self, parser: Any) -> Any:
        try:
            return self._events(parser)
        finally:
            parser.dispose()

    def _events(self, parser: Any) -> Any:
        result: Any = None
        documents = 0
        while parser.check_event():
            event = parser.get_event()
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise self._error(event, "", "a brief is one YAML document; remove the second '---'")
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                self._open(event)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                done = self.stack.pop()
                value = self._merged(done) if isinstance(done.value, dict) else done.value
                result = self._place(value, done.size, done.anchor, event)
            elif isinstance(event, yaml.ScalarEvent):
                result = self._scalar(event)
            elif isinstance(event, yaml.AliasEvent):
                result = self._alias(event)
        return result

    def _open(self, event: Any) -> None:
        default = "tag:yaml.org,2002:map" if isinstance(event, yaml.MappingStartEvent) else "tag:yaml.org,2002:seq"
        path = self._child_path(event)
        if event.tag not in (None, "!", default):
            raise self._error(event, dotted(path), f"the YAML tag {event.tag!r} is not allowed; remove it")
        if len(self.stack) >= MAX_DEPTH:
            raise self._error(event, "", f"invalid YAML: values are nested more than {MAX_DEPTH} levels deep")
        self.value_positions[path] = _start(event)
        value: dict[str, Any] | list[Any] = {} if isinstance(event, yaml.MappingStartEvent) else []
        self.stack.append(_Open(value, path, event.anchor))

    def _scalar(self, event: Any) -> Any:
        parent = self.stack[-1] if self.stack else None
        if parent is not None and isinstance(parent.value, dict) and parent.key is None:
            return self._key(parent, event)
        tag = event.tag
        if tag in (None, "!"):
            tag = self.resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            value = self.constructor.construct_object(node, deep=True)
        except ValueError:  # a timestamp such as 2026-02-30: validation reports it
            value = event.value
        self.value_positions[self._child_path(event)] = _start(event)
        return self._place(value, 1, event.anchor, event)

    def _key(self, parent: _Open, event: Any) -> None:
        key = str(event.value)
        path = parent.path + (key,)
        if path in self.key_positions:
            first = self.key_positions[path]
            raise self._error(event, dotted(path), f"duplicate field '{key}' (first given on line {first[0]})")
        self.key_positions[path] = _start(event)
        parent.key = key

    def _alias(self, event: Any) -> Any:
        if event.anchor not in self.anchors:
            raise self._error(event, "", f"invalid YAML: found undefined alias {event.anchor!r}")
        value, size = self.anchors[event.anchor]
        self.value_positions[self._child_path(event)] = _start(event)
        return self._place(value, size, None, event)

    def _place(self, value: Any, size: int, anchor: str | None, event: Any) -> Any:
        """Put a finished value into its parent, counting it against the node budget."""
        self.built += size
        if self.built > MAX_NODES:
            raise self._error(event, "", f"the document has more than {MAX_NODES} values "
                                         "(alias expansion?)")
        if anchor:
            self.anchors[anchor] = (value, size)
        if not self.stack:
            return value
        parent = self.stack[-1]
        parent.size += size
        if isinstance(parent.value, list):
            parent.value.append(value)
        elif parent.key is None:
            raise self._error(event, dotted(parent.path),
                              "a field name must be plain text, not a list or mapping")
        elif parent.key == "<<":  # a merge key; applied when the mapping is complete
            parent.merges.append(value)
            parent.key = None
        else:
            parent.value[parent.key] = value
            parent.key = None
        return value

    def _merged(self, done: _Open) -> dict[str, Any]:
        """Apply YAML merge keys ('<<: *defaults'): explicit keys win."""
        mapping = done.value
        assert isinstance(mapping, dict)
        for merge in done.merges:
            for source in merge if isinstance(merge, list) else [merge]:
                if isinstance(source, dict):
                    for key, value in source.items():
                        mapping.setdefault(key, value)
        return mapping

    def _child_path(self, event: Any) -> FieldPath:
        if not self.stack:
            return ()
        parent = self.stack[-1]
        if isinstance(parent.value, list):
            return parent.path + (len(parent.value),)
        return parent.path + ((parent.key,) if parent.key is not None else ())

    def _error(self, event: Any, field_path: str, message: str) -> InvalidInput:
        return _problem(self.path, _start(event), field_path, message)


def _start(event: Any) -> Position:
    return (event.start_mark.line + 1, event.start_mark.column + 1)


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
