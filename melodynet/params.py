"""Model hyperparameters: what a model declares (``ModelSpec.params``), checked and parsed
before anything heavy is imported, and saved with the bundle.

Names are lower-case words joined by ``-`` (``recurrent-dropout``); the Python API also
takes them with underscores (``params={"recurrent_dropout": 0.2}``).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from typing import Any

from melodynet.errors import OptionError
from melodynet.hookspecs import ModelSpec, Param

TYPES = ("int", "float", "bool", "choice")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def canonical(name: str) -> str:
    return str(name).strip().lower().replace("_", "-")


def parse_assignments(items: Sequence[str]) -> dict[str, str]:
    """``["layers=2", "dropout=0.1"]`` (``--param``) -> ``{"layers": "2", ...}``."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = str(item).partition("=")
        if not sep or not name.strip() or not value.strip():
            raise OptionError(f"param {item!r}: expected NAME=VALUE, such as layers=2", "param")
        out[canonical(name)] = value.strip()
    return out


def describe_allowed(param: Param) -> str:
    if param.type == "bool":
        return "true or false"
    if param.type == "choice":
        return "one of " + ", ".join(map(str, param.choices))
    kind = "a whole number" if param.type == "int" else "a number"
    if param.low is not None and param.high is not None:
        return f"{kind} from {param.low:g} to {param.high:g}"
    if param.low is not None:
        return f"{kind} of at least {param.low:g}"
    if param.high is not None:
        return f"{kind} of at most {param.high:g}"
    return kind


def convert(param: Param, value: Any, model: str) -> Any:
    """``value`` (as typed, or text from the command line) as the param's type, in range."""

    def wrong() -> OptionError:
        return OptionError(
            f"param {param.name}={value!r} for model {model}: expected {describe_allowed(param)}",
            option="param",
        )

    if param.type == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE | _FALSE:
            return text in _TRUE
        raise wrong()
    if param.type == "choice":
        for choice in param.choices:
            if str(value).strip().lower() == str(choice).lower():
                return choice
        raise wrong()
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value) if param.type == "float" else _whole(value)
    except (TypeError, ValueError):
        raise wrong() from None
    if isinstance(number, float) and not math.isfinite(number):
        raise wrong()
    if (param.low is not None and number < param.low) or (
        param.high is not None and number > param.high
    ):
        raise wrong()
    return number


def _whole(value: Any) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return int(str(value).strip())


def resolve(spec: ModelSpec, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """Every declared param of ``spec`` with its value: ``given`` (checked), else the
    default. Unknown names are an OptionError listing the valid ones."""
    declared = {p.name: p for p in spec.params}
    values: dict[str, Any] = {}
    for raw, value in (given or {}).items():
        name = canonical(raw)
        if name not in declared:
            valid = ", ".join(declared) or "none"
            close = difflib.get_close_matches(name, list(declared), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise OptionError(
                f"param {name!r} is not a parameter of model {spec.name}{hint}; "
                f"its parameters: {valid}",
                option="param",
            )
        values[name] = convert(declared[name], value, spec.name)
    return {p.name: values.get(p.name, p.default) for p in spec.params}


def check_declarations(params: Sequence[Param]) -> None:
    """What a plugin declares, checked when it registers (raises ValueError)."""
    import re

    seen = set()
    for param in params:
        if not isinstance(param, Param):
            raise TypeError(f"params holds a {type(param).__name__}, not a melodynet.Param")
        if not re.fullmatch(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*", param.name):
            raise ValueError(f"invalid param name {param.name!r} (use lower-case words and '-')")
        if param.name in seen:
            raise ValueError(f"param {param.name!r} is declared twice")
        seen.add(param.name)
        if param.type not in TYPES:
            raise ValueError(f"param {param.name!r}: type must be one of {', '.join(TYPES)}")
        if param.type == "choice" and not param.choices:
            raise ValueError(f"param {param.name!r}: a choice needs choices")
        try:
            convert(param, param.default, "?")
        except OptionError:
            raise ValueError(
                f"param {param.name!r}: default {param.default!r} is not {describe_allowed(param)}"
            ) from None
