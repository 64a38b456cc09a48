"""Stage 1, load: read a brief's YAML into plain Python values, remembering positions.

In: a file path. Out: a :class:`LoadedFile` holding the data (as ``yaml.safe_load``
would build it) and the line and column of every key and value, so that later
stages can point at the exact place of a mistake. Problems found here (unreadable
bytes, YAML syntax, duplicate keys, a document that is not a mapping) are raised
as :class:`~fieldbrief.errors.InvalidInput`.

The values are built from libyaml's event stream (PyYAML's C parser) without
recursion, which is several times faster than composing PyYAML's node tree in
Python and bounds nesting depth and alias expansion (in values and in characters) as
it goes. Every scalar is checked once here, keys included: characters that XML 1.0
cannot carry are refused, explicit tags other than ``!!str`` are refused, and a plain
scalar that YAML turned into a number, boolean, date or null keeps the text the
analyst wrote (:class:`WrittenInt`, :class:`WrittenFloat`, :attr:`LoadedFile.written`),
so that figures and coordinates are shown as written and messages can say "put it in
quotes".
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from fieldbrief.errors import InvalidInput, Problem, display_path, excerpt, quoted

FieldPath = tuple[str | int, ...]
Position = tuple[int, int]

MAX_NODES = 100_000
"""Bound on values built per file, so aliases cannot multiply a small file (alias bomb)."""
MAX_DEPTH = 50
"""Bound on nesting: a brief is a few levels deep; thousands of levels are an attack."""
EXPANSION_FACTOR = 1
"""Bound on the characters of the document once aliases are expanded, as a multiple of
the file size limit: aliases may save typing, not make a brief larger than the largest
brief one could write out (a 30 KB brief that expanded to 3.6 MB passed check, then
took over two minutes to lay out)."""

STR_TAG = "tag:yaml.org,2002:str"
YAML_TAG_PREFIX = "tag:yaml.org,2002:"
_NOT_IN_TEXT = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef"
    + "".join(f"{chr(plane + 0xFFFE)}{chr(plane + 0xFFFF)}" for plane in range(0, 0x110000, 0x10000))
    + "]")
"""Characters no text of a brief may hold: C0 controls but tab and line feed, DEL, C1
controls, surrogates, and noncharacters. XML 1.0 (the feed, the PDF's metadata) cannot
carry most of them, and the rest only hide or forge text."""
_NOT_IN_KEY = re.compile(_NOT_IN_TEXT.pattern[:-1] + "\t\n]")


class WrittenInt(int):
    """An integer YAML read from a plain scalar, with the text as written ('1_000', '0x10')."""

    written: str

    def __new__(cls, value: int, written: str) -> WrittenInt:
        number = super().__new__(cls, value)
        number.written = written
        return number

    def __reduce__(self) -> tuple[Any, ...]:
        return (WrittenInt, (int(self), self.written))


class WrittenFloat(float):
    """A float YAML read from a plain scalar, with the text as written ('16.770', '-3.0')."""

    written: str

    def __new__(cls, value: float, written: str) -> WrittenFloat:
        number = super().__new__(cls, value)
        number.written = written
        return number

    def __reduce__(self) -> tuple[Any, ...]:
        return (WrittenFloat, (float(self), self.written))


@dataclass
class LoadedFile:
    """A YAML document as data plus the position of every value and key in it."""

    path: Path
    raw: bytes
    data: Any
    value_positions: dict[FieldPath, Position] = field(default_factory=dict)
    key_positions: dict[FieldPath, Position] = field(default_factory=dict)
    written: dict[FieldPath, str] = field(default_factory=dict)
    """The text of each plain scalar that YAML read as something other than text."""

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


def load_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES, root: Path | None = None) -> LoadedFile:
    """Read and parse one YAML file; raise InvalidInput naming the file and position.

    With ``root``, the file must be inside that folder once links are followed; it must
    always be a regular file. Nothing is read from a file that is refused.
    """
    raw = read_regular_file(path, max_bytes, root)
    text = _decode(path, raw)
    if not text.strip():
        raise _problem(path, (1, 1), "", "the file is empty; a brief is a YAML mapping of fields")
    builder = _Builder(path, EXPANSION_FACTOR * max_bytes)
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
    return LoadedFile(path, raw, data, builder.value_positions, builder.key_positions,
                      builder.written)


def read_regular_file(path: Path, max_bytes: int, root: Path | None = None,
                      limit_setting: str = "max_brief_bytes",
                      resolve: Callable[[Path], Path] = Path.resolve) -> bytes:
    """The bytes of ``path``, a regular file (inside ``root``, if given) of at most
    ``max_bytes``; InvalidInput naming the file otherwise. The file is opened once, by
    its real path and without following a link, and checked through that handle.

    ``resolve`` finds real paths (a caller reading many files may resolve each folder once)."""
    try:
        real = resolve(path)
    except (OSError, RuntimeError):  # a loop of links
        raise _problem(path, (1, 1), "", "the file cannot be read: its links form a loop") from None
    if root is not None and not real.is_relative_to(resolve(root)):
        what = "a link to a file outside the project" if path.is_symlink() else "outside the project"
        raise _problem(path, (1, 1), "", f"refused: the file is {what}; fieldbrief reads "
                                         "only files inside the project folder")
    descriptor = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    status = os.fstat(descriptor)  # before fdopen, which refuses a folder with its own error
    if not stat.S_ISREG(status.st_mode):
        os.close(descriptor)
        raise _problem(path, (1, 1), "", "refused: the file is not a regular file (a folder, device or pipe)")
    with os.fdopen(descriptor, "rb") as file:
        raw = file.read(max_bytes + 1)
    if len(raw) > max_bytes:
        size = max(status.st_size, len(raw))
        raise _problem(path, (1, 1), "", f"the file is {size} bytes, more than the limit of "
                       f"{max_bytes} ({limit_setting} in site.yaml)")
    return raw


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
    characters: int = 0  # characters of the scalars inside it, for the same budget
    key: str | None = None
    merges: list[Any] = field(default_factory=list)


class _Built(NamedTuple):
    """A finished value with what it counts against the budgets (kept for its anchor)."""

    value: Any
    size: int
    characters: int
    written: str | None = None  # of a plain scalar YAML read as other than text


class _Builder:
    """Builds Python values from YAML events, recording the position of every key and value."""

    def __init__(self, path: Path, max_characters: int) -> None:
        self.path = path
        self.max_characters = max_characters
        self.value_positions: dict[FieldPath, Position] = {}
        self.key_positions: dict[FieldPath, Position] = {}
        self.written: dict[FieldPath, str] = {}
        self.resolver = yaml.resolver.Resolver()
        self.constructor = yaml.constructor.SafeConstructor()
        self.anchors: dict[str, _Built] = {}
        self.stack: list[_Open] = []
        self.built = 0
        self.characters = 0

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
                result = self._place(value, _Built(value, done.size, done.characters),
                                     done.anchor, event)
            elif isinstance(event, yaml.ScalarEvent):
                result = self._scalar(event)
            elif isinstance(event, yaml.AliasEvent):
                result = self._alias(event)
        return result

    def _open(self, event: Any) -> None:
        default = "tag:yaml.org,2002:map" if isinstance(event, yaml.MappingStartEvent) else "tag:yaml.org,2002:seq"
        path = self._child_path(event)
        if event.tag not in (None, "!", default):
            raise self._error(event, dotted(path), _tag_message(event.tag))
        if len(self.stack) >= MAX_DEPTH:
            raise self._error(event, "", f"invalid YAML: values are nested more than {MAX_DEPTH} levels deep")
        self.value_positions[path] = _start(event)
        value: dict[str, Any] | list[Any] = {} if isinstance(event, yaml.MappingStartEvent) else []
        self.stack.append(_Open(value, path, event.anchor))

    def _scalar(self, event: Any) -> Any:
        parent = self.stack[-1] if self.stack else None
        if parent is not None and isinstance(parent.value, dict) and parent.key is None:
            return self._key(parent, event)
        path = self._child_path(event)
        self._check_characters(event, path, event.value)
        value = self._construct(event, path)
        self.value_positions[path] = _start(event)
        self._count(len(event.value), event)
        built = _Built(value, 1, len(event.value), self.written.get(path))
        return self._place(value, built, event.anchor, event)

    def _construct(self, event: Any, path: FieldPath) -> Any:
        """The value of a scalar: text, or what YAML reads a plain scalar as (11:00 is 660).

        Explicit tags but !!str are refused: no brief needs one, and each is a way around
        the rules of plain scalars (!!binary bytes, !!float "", !!python/...).
        """
        if event.tag not in (None, "!", STR_TAG):
            raise self._error(event, dotted(path), _tag_message(event.tag))
        if event.tag is not None or not event.implicit[0]:
            return event.value
        tag = self.resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag == STR_TAG:
            return event.value
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            value = self.constructor.construct_object(node, deep=True)
        except (ValueError, OverflowError, yaml.YAMLError):
            return event.value  # 2026-02-30, a number of 5000 digits: validation reports it
        self.written[path] = event.value
        if isinstance(value, int) and not isinstance(value, bool):
            return WrittenInt(value, event.value)
        if isinstance(value, float):
            return WrittenFloat(value, event.value)
        return value

    def _check_characters(self, event: Any, path: FieldPath, text: str, *, key: bool = False) -> None:
        """Refuse characters no brief text may hold; a field name may not break lines either."""
        if text.isprintable():  # the common case, checked in C: no control or noncharacter
            return
        match = (_NOT_IN_KEY if key else _NOT_IN_TEXT).search(text)
        if match:
            where = "a field name" if key else "text"
            raise self._error(event, dotted(path), f"character {_describe_character(match.group())} "
                                                   f"is not allowed in {where}; remove it")

    def _key(self, parent: _Open, event: Any) -> None:
        if event.tag not in (None, "!", STR_TAG):
            raise self._error(event, dotted(parent.path), _tag_message(event.tag))
        self._check_characters(event, parent.path, event.value, key=True)
        key = str(event.value)
        path = parent.path + (key,)
        if path in self.key_positions:
            first = self.key_positions[path]
            raise self._error(event, dotted(path), f"duplicate field {quoted(key)} (first given on line {first[0]})")
        self.key_positions[path] = _start(event)
        parent.key = key
        parent.characters += len(key)
        self._count(len(key), event)

    def _alias(self, event: Any) -> Any:
        if event.anchor not in self.anchors:
            raise self._error(event, "", f"invalid YAML: found undefined alias {quoted(event.anchor)}")
        anchored = self.anchors[event.anchor]
        path = self._child_path(event)
        self.value_positions[path] = _start(event)
        if anchored.written is not None:
            self.written[path] = anchored.written
        self._count(anchored.characters, event)
        return self._place(anchored.value, anchored, None, event)

    def _count(self, characters: int, event: Any) -> None:
        """Count new characters (of a scalar, a key, or all an alias repeats) against the
        expansion budget, at the value that adds them."""
        self.characters += characters
        if self.characters > self.max_characters:
            raise self._error(event, "", f"the document grows to more than {self.max_characters} "
                                         "characters through aliases (at most max_brief_bytes, "
                                         "as if written out)")

    def _place(self, value: Any, counted: _Built, anchor: str | None, event: Any) -> Any:
        """Put a finished value into its parent, counting it against the budgets."""
        self.built += counted.size
        if self.built > MAX_NODES:
            raise self._error(event, "", f"the document has more than {MAX_NODES} values "
                                         "(alias expansion?)")
        if anchor:
            self.anchors[anchor] = counted
        if not self.stack:
            return value
        parent = self.stack[-1]
        parent.size += counted.size
        parent.characters += counted.characters
        if isinstance(parent.value, list):
            parent.value.append(value)
        elif parent.key is None:
            raise self._error(event, dotted(parent.path),
                              "a field name must be plain text, not a list or mapping")
        elif parent.key == "<<":  # a merge key; applied when the mapping is complete
            sources = value if isinstance(value, list) else [value]
            if not all(isinstance(source, dict) for source in sources):
                raise self._error(event, dotted(parent.path + ("<<",)),
                                  "a merge key '<<' takes a mapping or a list of mappings "
                                  "(e.g. '<<: *defaults'); nothing else can be merged")
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
    """Render ('figures', 0, 'sources') as 'figures[0].sources' (each name cut to an excerpt)."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{excerpt(part)}" if text else excerpt(part))
    return text


def _kind_of(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty"
    return f"a single value ({quoted(value)})"


def _problem(path: Path, position: Position, field_path: str, message: str) -> InvalidInput:
    return InvalidInput([Problem(display_path(path), position[0], position[1], field_path, message)])


def _tag_message(tag: str) -> str:
    shown = "!!" + tag.removeprefix(YAML_TAG_PREFIX) if tag.startswith(YAML_TAG_PREFIX) else tag
    return f"the YAML tag {quoted(shown)} is not allowed; remove it (put text in quotes)"


def _describe_character(character: str) -> str:
    code = ord(character)
    if 0xD800 <= code <= 0xDFFF:
        kind = "a surrogate"
    elif code < 0x20 or 0x7F <= code <= 0x9F:
        kind = "a control character"
    else:
        kind = "a noncharacter"
    return f"U+{code:04X} ({kind})"
