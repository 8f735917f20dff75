"""Agreement files (SPEC §1): YAML text -> `truce.domain.model.Agreement`.

The loader never stops at the first mistake: it collects every problem in the
file and raises them together as one `AgreementError`. Each `Problem` names the
path (`rules[2].min_distance_m.tank`, `features.castello_road.line[1]`), the YAML
line, the offending value, and says what to do.

The modules: `document` (the pydantic shape), `yaml_paths` (paths, line numbers,
duplicate keys), `pydantic_errors` (their messages), `checker` (the problems and
what the sections share), `builder` (the whole document) and one module a
section: `header`, `features`, `zones`, `timeline`, `rules`.

>>> a = parse_agreement('''
... truce: 1
... id: demo
... title: Demo
... timezone: "+03:00"
... phases: [{id: cessation, start: 2016-09-12T19:00:00, duration: 48h}]
... ''')
>>> a.phases[0].start.at.isoformat(), a.phases[0].duration
('2016-09-12T19:00:00+03:00', datetime.timedelta(days=2))
"""

from __future__ import annotations

from pathlib import Path

import yaml

from truce.domain.model import Agreement
from truce.errors import AgreementError, Problem
from truce.formats.agreement.builder import build_agreement
from truce.formats.agreement.checker import Checker
from truce.formats.agreement.header import FORMAT_VERSION
from truce.formats.agreement.yaml_paths import (
    PathT,
    RecursiveAlias,
    duplicate_keys,
    invalid_timestamp,
    line_index,
)

__all__ = ["FORMAT_VERSION", "load_agreement", "parse_agreement"]

# libyaml's parser when PyYAML was built with it: the same nodes, marks and values,
# fifteen times faster than the pure-Python one (which PyYAML falls back to).
_FAST_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_agreement(path: str | Path) -> Agreement:
    """Read and validate an agreement file; raise AgreementError with every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AgreementError(
            [Problem("", f"cannot read the file: {exc}", file=str(path))], str(path)
        ) from exc
    return parse_agreement(text, file=str(path))


def parse_agreement(text: str, file: str | None = None) -> Agreement:
    """Validate agreement YAML text; raise AgreementError with every problem found."""
    root = None
    try:
        try:
            root, lines, data = _read_yaml(text, _FAST_LOADER)
        except yaml.YAMLError:
            # libyaml words some mistakes differently: report them as PyYAML's parser does.
            root, lines, data = _read_yaml(text, yaml.SafeLoader)
    except RecursiveAlias as exc:
        problem = Problem(
            "",
            "an alias refers to a node that contains it; write the value out",
            file=file,
            line=exc.line,
        )
        raise AgreementError([problem], file) from exc
    except ValueError as exc:  # a scalar that looks like a date but is none, e.g. 2016-13-01
        root = yaml.compose(text, Loader=_FAST_LOADER)  # parsed; only a value failed
        line, value, reason = invalid_timestamp(root) or (None, "", str(exc))
        problem = Problem(
            "",
            f"not a real date or time: {value} ({reason}); write it as YYYY-MM-DDTHH:MM:SS",
            file=file,
            line=line,
        )
        raise AgreementError([problem], file) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        what = getattr(exc, "problem", None) or str(exc)
        problem = Problem(
            "",
            f"not valid YAML: {what}; check indentation, colons and quoting near this line",
            file=file,
            line=mark.line + 1 if mark else None,
        )
        raise AgreementError([problem], file) from exc
    if not isinstance(data, dict):
        problem = Problem(
            "", "an agreement file is a YAML mapping that starts with `truce: 1`", file=file, line=1
        )
        raise AgreementError([problem], file)
    check = Checker(file, lines)
    for path, _line, name in duplicate_keys(root):
        check.add(
            path,
            f"key '{name}' appears twice in the same mapping; YAML would silently keep only the last",
        )
    agreement = build_agreement(check, data)
    if check.problems or agreement is None:
        problems = sorted(check.problems, key=lambda p: p.line or 0)
        raise AgreementError(problems, file)
    return agreement


def _read_yaml(text: str, loader_class: type) -> tuple[yaml.Node | None, dict[PathT, int], object]:
    """The document's node tree, each path's line and the plain values, from one parse."""
    loader = loader_class(text)
    try:
        root = loader.get_single_node()
        lines = line_index(root)
        return root, lines, None if root is None else loader.construct_document(root)
    finally:
        loader.dispose()
