"""pydantic validation errors -> the loader's messages (what is wrong, what to write)."""

from __future__ import annotations

import difflib
import re
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from truce.domain.model import WEAPONS


def field_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        field = next((f for n, f in current.model_fields.items() if part in (n, f.alias)), None)
        current = _inner_model(field.annotation) if field else None
    return current


def _literal_choices(err: dict[str, Any]) -> list[str]:
    return re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))


def error_message(err: dict[str, Any], model: type[BaseModel], extra_keys: tuple[str, ...]) -> str:
    kind, loc, value = err["type"], err["loc"], err.get("input")
    if kind == "missing":
        return f"missing required key '{loc[-1]}'; add it"
    if kind == "extra_forbidden":
        inner = _model_at(model, loc[:-1]) or model
        known = [*field_keys(inner), *(extra_keys if inner is model else ())]
        hint = difflib.get_close_matches(str(loc[-1]), known, n=1)
        maybe = f"did you mean '{hint[0]}'? " if hint else ""
        return f"unknown key '{loc[-1]}'; {maybe}known keys: {', '.join(known)}"
    if kind == "literal_error":
        choices = _literal_choices(err)
        if set(choices) == set(WEAPONS):
            return f"unknown weapon class '{value}'; known: {', '.join(WEAPONS)}"
        return f"unknown value '{value}'; expected one of: {', '.join(choices)}"
    message = str(err["msg"]).removeprefix("Value error, ")
    if kind != "value_error" and not isinstance(value, dict | list):
        message += f" (got {value!r})"
    return message


def errors_of(model: type[BaseModel], data: Any) -> list[Any]:
    try:
        model.model_validate(data)
    except ValidationError as exc:
        return list(exc.errors())
    return []
