"""Paths into the YAML document (`rules[2].min_distance_m.tank`), their line
numbers, and the duplicate keys that YAML itself would silently drop."""

from __future__ import annotations

import re
from collections.abc import Iterator

import yaml

PathT = tuple[str | int, ...]


def format_path(path: PathT) -> str:
    """('rules', 2, 'min_distance_m', 'tank') -> 'rules[2].min_distance_m.tank'."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_path(text: str) -> PathT:
    """'phases[0]' -> ('phases', 0): the inverse of format_path for rule ref paths."""
    parts: list[str | int] = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", text):
        parts.append(int(index) if index else name)
    return tuple(parts)


class RecursiveAlias(ValueError):
    """An alias inside the node it refers to (`a: &r [1, *r]`): a tree without end."""

    def __init__(self, line: int) -> None:
        super().__init__(f"line {line}: recursive alias")
        self.line = line


def _below(
    node: yaml.Node, path: PathT = (), ancestors: frozenset[int] = frozenset()
) -> Iterator[tuple[PathT, object, yaml.Node | None, yaml.Node]]:
    """Every node below `node`, depth first: (path, visit, key node or None, node). `visit`
    stands for this one visit of the parent (an alias `*k` visits its node again).
    Raises `RecursiveAlias` where a node contains itself."""
    visit = object()
    ancestors = ancestors | {id(node)}
    if isinstance(node, yaml.MappingNode):
        children = [((*path, str(key.value)), key, value) for key, value in node.value]
    elif isinstance(node, yaml.SequenceNode):
        children = [((*path, i), None, value) for i, value in enumerate(node.value)]
    else:
        return
    for child, key, value in children:
        if id(value) in ancestors:
            raise RecursiveAlias((key or value).start_mark.line + 1)
        yield child, visit, key, value
        yield from _below(value, child, ancestors)


def invalid_timestamp(root: yaml.Node | None) -> tuple[int, str, str] | None:
    """(line, text, reason) of the first scalar YAML reads as a date or time that does
    not exist (`2016-13-01`), or None."""
    if root is None:
        return None
    constructor = yaml.SafeLoader("")
    for _path, _visit, _key, node in _below(root):
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:timestamp":
            try:
                constructor.construct_yaml_timestamp(node)
            except ValueError as exc:
                return node.start_mark.line + 1, str(node.value), str(exc)
    return None


def line_index(root: yaml.Node | None) -> dict[PathT, int]:
    """Every path in the YAML node tree -> its 1-based line (the key's line for mapping values)."""
    if root is None:
        return {}
    lines: dict[PathT, int] = {(): root.start_mark.line + 1}
    for path, _visit, key, node in _below(root):
        if key is not None:
            lines[path] = key.start_mark.line + 1
        else:
            lines.setdefault(path, node.start_mark.line + 1)
    return lines


def duplicate_keys(root: yaml.Node | None) -> list[tuple[PathT, int, str]]:
    """(path, line, key) of every key that repeats an earlier one in the same mapping."""
    if root is None:
        return []
    out: list[tuple[PathT, int, str]] = []
    seen: set[tuple[object, str]] = set()  # (the mapping's visit, key)
    for path, visit, key, _node in _below(root):
        if key is None:
            continue
        name = str(key.value)
        if (visit, name) in seen:
            out.append((path, key.start_mark.line + 1, name))
        seen.add((visit, name))
    return out
