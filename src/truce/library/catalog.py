"""Look up agreements in the built-in library (`truce/library/agreements/*.yaml`)."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from truce.domain.model import Agreement
from truce.errors import UnknownAgreement
from truce.formats.agreement import load_agreement, parse_agreement

__all__ = ["builtin_files", "list_agreements", "load_builtin", "resolve_agreement"]


def builtin_files() -> list[Traversable]:
    """The library's agreement files, sorted by name."""
    folder = files("truce.library") / "agreements"
    if not folder.is_dir():
        return []
    return sorted((f for f in folder.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)


def _load(resource: Traversable) -> Agreement:
    return parse_agreement(
        resource.read_text(encoding="utf-8"), file=f"library/agreements/{resource.name}"
    )


def list_agreements() -> list[Agreement]:
    """Every built-in agreement, sorted by id. A broken built-in file raises AgreementError."""
    return sorted((_load(f) for f in builtin_files()), key=lambda a: a.id)


def load_builtin(agreement_id: str) -> Agreement:
    """The built-in agreement with this id (its file is normally `<id>.yaml`)."""
    resources = builtin_files()
    by_name = [f for f in resources if f.name == f"{agreement_id}.yaml"]
    for resource in by_name:
        agreement = _load(resource)
        if agreement.id == agreement_id:
            return agreement
    for resource in resources:
        if resource in by_name:
            continue
        agreement = _load(resource)
        if agreement.id == agreement_id:
            return agreement
    known = ", ".join(a.id for a in list_agreements()) or "(the library is empty)"
    raise UnknownAgreement(f"no built-in agreement '{agreement_id}'; known ids: {known}")


def resolve_agreement(file_or_id: str) -> Agreement:
    """A path to an existing agreement file, else the id of a built-in agreement."""
    path = Path(file_or_id)
    if path.is_file():
        return load_agreement(path)
    try:
        return load_builtin(file_or_id)
    except UnknownAgreement:
        known = ", ".join(a.id for a in list_agreements()) or "(the library is empty)"
        raise UnknownAgreement(
            f"'{file_or_id}' is neither an agreement file nor a built-in agreement id; "
            f"known ids: {known}"
        ) from None
