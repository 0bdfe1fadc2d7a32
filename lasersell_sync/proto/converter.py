"""The package's one ``cattrs`` converter, configured for a strict wire.

cattrs' defaults coerce (``int("7")``, ``bool("no")``); a trading client must not. The hooks
here accept exactly the JSON types of the wire protocol and check every sized integer's range:

* integers: JSON integers in range; an integral float only when it is exact (|v| <= 2**53)
  and in range (as the official Python SDK accepts them); never booleans or strings;
* floats: any finite JSON number, returned as ``float``;
* strings and booleans: only themselves; arrays: only JSON arrays; objects: only JSON objects;
* ``null`` in a defaulted field means "absent" (the docs write nulls there); legacy key aliases are renamed.

Failures raise ``cattrs`` validation errors carrying the field path, which :func:`describe_error`
turns into one readable line.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Callable, Dict, List, Tuple, get_args, get_origin

import attrs
import cattrs
from cattrs.cols import homogenous_tuple_structure_factory, iterable_unstructure_factory
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from .scalars import ALIASES, CATCH_ALL, OMIT_IF_DEFAULT, WIRE_DEFAULT, IntBounds, OneOrMany
from .strategy_rules import unchecked

__all__ = ["WireValueError", "converter", "describe_error", "json_kind"]

_MAX_EXACT_FLOAT = 2**53


class WireValueError(ValueError):
    """A JSON value of the wrong kind or range for its field."""


def json_kind(value: Any) -> str:
    """Name the JSON type of a decoded value, with a short excerpt, for error messages."""
    if value is None:
        return "null"
    if value is True or value is False:
        return f"boolean {str(value).lower()}"
    if isinstance(value, str):
        text = value if len(value) <= 32 else value[:29] + "..."
        return f"string {text!r}"
    if isinstance(value, (int, float)):
        return f"number {value!r}"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _int_hook(bounds: IntBounds) -> Callable[[Any, Any], int]:
    low, high, name = bounds.low, bounds.high, bounds.name

    def structure_int(value: Any, _: Any) -> int:
        if type(value) is int:
            if low <= value <= high:
                return value
        elif type(value) is float and value.is_integer():
            # orjson hands over integers beyond 64 bits as floats: range first, then exactness
            if low <= value <= high:
                if abs(value) <= _MAX_EXACT_FLOAT:
                    return int(value)
                raise WireValueError(f"expected an exact integer ({name}), got number {value!r}")
        else:
            raise WireValueError(f"expected an integer ({name}), got {json_kind(value)}")
        raise WireValueError(f"{value!r} is out of range for {name} ({low}..{high})")

    return structure_int


def _structure_float(value: Any, _: Any) -> float:
    if type(value) is float:
        if math.isfinite(value):
            return value
    elif type(value) is int:
        try:
            return float(value)
        except OverflowError:
            pass
    else:
        raise WireValueError(f"expected a number, got {json_kind(value)}")
    raise WireValueError(f"{value!r} is not a finite number")


def _structure_str(value: Any, _: Any) -> str:
    if type(value) is str:
        return value
    raise WireValueError(f"expected a string, got {json_kind(value)}")


def _structure_bool(value: Any, _: Any) -> bool:
    if value is True or value is False:
        return value
    raise WireValueError(f"expected a boolean, got {json_kind(value)}")


def _is_sized_int(type_: Any) -> bool:
    return get_origin(type_) is Annotated and isinstance(type_.__metadata__[0], IntBounds)


def _is_one_or_many(type_: Any) -> bool:
    return get_origin(type_) is Annotated and isinstance(type_.__metadata__[0], OneOrMany)


def _is_homogeneous_tuple(type_: Any) -> bool:
    args = get_args(type_)
    return get_origin(type_) is tuple and len(args) == 2 and args[1] is Ellipsis


def _tuple_hook(type_: Any) -> Callable[[Any, Any], Tuple[Any, ...]]:
    structure_items = homogenous_tuple_structure_factory(type_, converter)

    def structure_tuple(value: Any, _: Any) -> Tuple[Any, ...]:
        if type(value) is not list:
            raise WireValueError(f"expected an array, got {json_kind(value)}")
        return structure_items(value, type_)  # type: ignore[no-any-return]

    return structure_tuple


def _one_or_many_hook(type_: Any) -> Callable[[Any, Any], Tuple[Any, ...]]:
    structure_tuple = _tuple_hook(get_args(type_)[0])

    def structure_one_or_many(value: Any, _: Any) -> Tuple[Any, ...]:
        if type(value) is str:
            return (value,)
        return structure_tuple(value, type_)

    return structure_one_or_many


def _catch_all_field(cls: Any) -> Any:
    """The ``Dict[str, Any]`` field that keeps unknown keys, if the class has one."""
    for field in attrs.fields(cls):
        if field.metadata.get(CATCH_ALL):
            return field
    return None


def _attrs_structure_hook(cls: Any) -> Callable[[Any, Any], Any]:
    fields = attrs.fields(cls)
    catch_all = _catch_all_field(cls)
    known = frozenset(f.name for f in fields if f is not catch_all)
    structure_fields = make_dict_structure_fn(cls, converter, _cattrs_detailed_validation=True)
    # D fields (defaulted, not Optional): JSON null means absent, so drop the key.
    defaulted = tuple(
        f.name for f in fields if f is not catch_all and f.default is not attrs.NOTHING and f.default is not None
    )
    wire_defaults = {f.name: f.metadata[WIRE_DEFAULT] for f in fields if WIRE_DEFAULT in f.metadata}
    aliases = tuple((a, f.name) for f in fields for a in f.metadata.get(ALIASES, ()))
    unchecked_on_the_wire = getattr(cls, "checked_at_construction", False)

    def structure(obj: Any, _: Any) -> Any:
        if type(obj) is not dict:
            raise WireValueError(f"expected an object, got {json_kind(obj)}")
        for alias, name in aliases:
            if name not in obj and alias in obj:
                obj = dict(obj)
                obj[name] = obj.pop(alias)
        for name in defaulted:
            if obj.get(name, 0) is None:
                obj = {k: v for k, v in obj.items() if v is not None or k not in defaulted}
                break
        if wire_defaults:
            obj = {**wire_defaults, **obj}
        if catch_all is not None:
            obj = dict(obj)
            obj[catch_all.name] = {k: v for k, v in obj.items() if k not in known}
        if unchecked_on_the_wire:
            with unchecked():  # a server judges a decoded strategy; its constructor does not
                return structure_fields(obj, cls)
        return structure_fields(obj, cls)

    return structure


def _attrs_unstructure_hook(cls: Any) -> Callable[[Any], Dict[str, Any]]:
    catch_all = _catch_all_field(cls)
    overrides: Dict[str, Any] = {
        f.name: override(omit_if_default=True) for f in attrs.fields(cls) if f.metadata.get(OMIT_IF_DEFAULT)
    }
    if catch_all is None:
        return make_dict_unstructure_fn(cls, converter, **overrides)
    overrides[catch_all.name] = override(omit=True)
    unstructure_fields = make_dict_unstructure_fn(cls, converter, **overrides)
    name = catch_all.name

    def unstructure(value: Any) -> Dict[str, Any]:
        out: Dict[str, Any] = unstructure_fields(value)
        for key, item in getattr(value, name).items():
            out.setdefault(key, item)
        return out

    return unstructure


def _float_unstructure(value: Any) -> float:
    return float(value)


def _build() -> cattrs.Converter:
    conv = cattrs.Converter(detailed_validation=True)
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook(float, _structure_float)
    conv.register_structure_hook_factory(_is_sized_int, lambda t: _int_hook(t.__metadata__[0]))
    conv.register_structure_hook_factory(_is_one_or_many, _one_or_many_hook)
    conv.register_structure_hook_factory(_is_homogeneous_tuple, _tuple_hook)
    conv.register_structure_hook_factory(attrs.has, _attrs_structure_hook)
    conv.register_unstructure_hook(float, _float_unstructure)
    conv.register_unstructure_hook_factory(
        _is_homogeneous_tuple, lambda t: iterable_unstructure_factory(t, conv, unstructure_to=list)
    )
    conv.register_unstructure_hook_factory(attrs.has, _attrs_unstructure_hook)
    return conv


converter = _build()
"""The converter every model goes through. Import it to structure nested types yourself."""


def _format_leaf(exc: BaseException, _: Any) -> str:
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, WireValueError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def describe_error(exc: BaseException) -> List[Tuple[str, str]]:
    """Flatten a structuring error into ``(field path, problem)`` pairs, path like ``a.b[0]``."""
    out = []
    for line in cattrs.transform_error(exc, path="", format_exception=_format_leaf):
        problem, _, path = line.rpartition(" @ ")
        out.append((path.lstrip("."), problem))
    return out
