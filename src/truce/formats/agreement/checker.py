"""The state one load shares across the sections: the problems found so far
(each with its path and line), and what earlier sections learned that later
ones check against (the timezone, every id, each feature's kind, the
phase/condition dependencies)."""

from __future__ import annotations

import difflib
from datetime import UTC, tzinfo
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from truce.errors import Problem
from truce.formats.agreement.pydantic_errors import error_message, field_keys
from truce.formats.agreement.yaml_paths import PathT, format_path

Namespace = Literal["phase", "zone", "feature", "party", "condition", "rule", "site", "convoy"]


class Checker:
    """Collects problems while the sections build the Agreement."""

    def __init__(self, file: str | None, lines: dict[PathT, int]) -> None:
        self.file = file
        self.lines = lines
        self.problems: list[Problem] = []
        self.tz: tzinfo = UTC
        self.ids: dict[Namespace, list[str]] = {
            "phase": [],
            "zone": [],
            "feature": [],
            "party": [],
            "condition": [],
            "rule": [],
            "site": [],
            "convoy": [],
        }
        self.feature_kinds: dict[str, str] = {}
        # dependency graph for cycle detection: node id -> [(depends-on id, path of the reference)]
        self.depends: dict[str, list[tuple[str, PathT]]] = {}

    def add(self, path: PathT, message: str, value: object = None) -> None:
        line = None
        for n in range(len(path), -1, -1):
            if path[:n] in self.lines:
                line = self.lines[path[:n]]
                break
        self.problems.append(
            Problem(format_path(path), message, file=self.file, line=line, value=value)
        )

    def validate(
        self,
        model: type[BaseModel],
        data: Any,
        path: PathT,
        *,
        context: dict[str, Any] | None = None,
        extra_keys: tuple[str, ...] = (),
    ) -> Any:
        """model.model_validate(data), turning every error into a problem; None if invalid."""
        if not isinstance(data, dict):
            self.add(path, f"expected a mapping of keys ({', '.join(field_keys(model))})", data)
            return None
        try:
            return model.model_validate(data, context=context)
        except ValidationError as exc:
            errors: list[dict[str, Any]] = [dict(e) for e in exc.errors()]
            locs = [tuple(p for p in e["loc"] if p != "[key]") for e in errors]
            for err, loc in zip(errors, locs, strict=True):
                # an error on a container that only repeats an error inside it says nothing new
                if any(other != loc and other[: len(loc)] == loc for other in locs):
                    continue
                self.add((*path, *loc), error_message(err, model, extra_keys), err.get("input"))
            return None

    def ref(self, path: PathT, namespace: Namespace, ref_id: object) -> bool:
        known = self.ids[namespace]
        if ref_id in known:
            return True
        hint = difflib.get_close_matches(str(ref_id), known, n=1)
        maybe = f"did you mean '{hint[0]}'? " if hint else ""
        plural = "parties" if namespace == "party" else f"{namespace}s"
        self.add(
            path,
            f"unknown {namespace} '{ref_id}' in {format_path(path)}; {maybe}"
            f"known {plural}: {', '.join(known) or '(none defined)'}",
            ref_id,
        )
        return False
