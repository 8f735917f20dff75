"""Paths into the YAML document (`rules[2].min_distance_m.tank`), their line
numbers, and the duplicate keys that YAML itself would silently drop."""

from __future__ import annotations

import re

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


def line_index(root: yaml.Node | None) -> dict[PathT, int]:
    """Every path in the YAML node tree -> its 1-based line (the key's line for mapping values)."""
    lines: dict[PathT, int] = {}

    def walk(node: yaml.Node, path: PathT) -> None:
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = (*path, str(key.value))
                lines[child] = key.start_mark.line + 1
                walk(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for i, value in enumerate(node.value):
                walk(value, (*path, i))

    if root is not None:
        walk(root, ())
    return lines


def duplicate_keys(root: yaml.Node | None) -> list[tuple[PathT, int, str]]:
    out: list[tuple[PathT, int, str]] = []

    def walk(node: yaml.Node, path: PathT) -> None:
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                name = str(key.value)
                if name in seen:
                    out.append(((*path, name), key.start_mark.line + 1, name))
                seen.add(name)
                walk(value, (*path, name))
        elif isinstance(node, yaml.SequenceNode):
            for i, value in enumerate(node.value):
                walk(value, (*path, i))

    if root is not None:
        walk(root, ())
    return out
