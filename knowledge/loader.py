"""Read knowledge-base YAML files, checking everything before anything is used."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from knowledge.entries import DATA_DIR, Entry


class KnowledgeFileError(Exception):
    """One or more entries are invalid; ``problems`` holds "file:line: message" lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def bundled_files() -> list[Path]:
    return sorted(DATA_DIR.glob("*.yaml"))


def load_files(paths: Iterable[Path]) -> list[Entry]:
    """All entries of the files, or KnowledgeFileError listing every problem found."""
    return _collect((str(path), _read(path)) for path in paths)


def load_text(text: str, name: str) -> list[Entry]:
    """The entries of one file's text (an upload), as `load_files` checks them."""
    return _collect([(name, _read_text(text))])


def check_record(record: object) -> Entry | list[str]:
    """One entry's fields (a dict, as in the files) as an Entry, or its "field: message"
    problems as the files are told them."""
    try:
        return Entry.model_validate(record)
    except ValidationError as error:
        return [_message(item) for item in error.errors()]


def _collect(files: Iterable[tuple[str, list[tuple[int, Entry | str]]]]) -> list[Entry]:
    entries: list[Entry] = []
    problems: list[str] = []
    first_seen: dict[str, str] = {}
    for path, read in files:
        for line, entry_or_problem in read:
            if isinstance(entry_or_problem, str):
                problems.append(f"{path}:{line}: {entry_or_problem}")
                continue
            entry = entry_or_problem
            where = f"{path}:{line}"
            if entry.id in first_seen:
                problems.append(f"{where}: id {entry.id} is already used at {first_seen[entry.id]}")
                continue
            first_seen[entry.id] = where
            entries.append(entry)
    if problems:
        raise KnowledgeFileError(problems)
    return entries


def _read(path: Path) -> list[tuple[int, Entry | str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        return [(0, f"cannot read: {error.strerror}")]
    return _read_text(text)


def _read_text(text: str) -> list[tuple[int, Entry | str]]:
    try:
        root, data = _parse(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        return [((mark.line + 1) if mark else 1, "not valid YAML")]
    if not isinstance(data, list) or root is None:
        return [(1, "expected a list of entries")]
    results: list[tuple[int, Entry | str]] = []
    for node, record in zip(root.value, data, strict=True):
        line = node.start_mark.line + 1
        try:
            results.append((line, Entry.model_validate(record)))
        except ValidationError as error:
            for item in error.errors():
                results.append((_line_of(node, item["loc"]) or line, _message(item)))
    return results


def _message(item: ErrorDetails) -> str:
    field = ".".join(str(part) for part in item["loc"]) or "entry"
    return f"{field}: {item['msg'].removeprefix('Value error, ')}"


def _parse(text: str) -> tuple[yaml.Node | None, object]:
    """The YAML's node tree (for line numbers) and its data, from one pass of the C parser."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        root = loader.get_single_node()
        return root, loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()


def _line_of(node: yaml.Node, location: tuple[int | str, ...]) -> int | None:
    """The line of the field a validation error points at, when the YAML has it."""
    for part in location:
        if isinstance(node, yaml.MappingNode):
            node = next((value for key, value in node.value if key.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if part < len(node.value) else None
        else:
            return None
        if node is None:
            return None
    return node.start_mark.line + 1
