"""Generated structuring for the hot message types: the common shape, checked inline.

``pnl_update``, ``trade_tick``, ``liquidity_snapshot`` and ``exit_signal_with_tx`` arrive by the
thousand per second, and the general cattrs path spends most of its time in per-field hook calls
and error bookkeeping. For flat types (sized ints, strings, floats, booleans, optional or
defaulted, tuples of flat types, and nested types delegated to their own hook) this module
generates one function per class that checks each field inline and calls the constructor.

It only ever *accepts less*: any input it is not sure about (a float in an integer field, an int
in a float field, a ``null``, a wrong type, a missing key) raises, and the caller falls back to
the general path, which accepts or rejects it exactly as before, with the same error message.
So the fixture suite and the property tests remain the contract for both paths.
"""

from __future__ import annotations

import typing
from typing import Any, Callable, Dict, List, Optional, get_args, get_origin

import attrs

from .scalars import ALIASES, CATCH_ALL, WIRE_DEFAULT, IntBounds

__all__ = ["fast_structure"]

Fast = Callable[[Dict[str, Any]], Any]


class _NotFlat(Exception):
    """A field this generator does not handle: the class keeps the general path."""


def _check(var: str, type_: Any, env: Dict[str, Any], nested: Callable[[Any], Any]) -> List[str]:
    """Lines that check (and maybe convert) ``var`` in place, raising ``_Slow`` when unsure."""
    if get_origin(type_) is typing.Annotated and isinstance(type_.__metadata__[0], IntBounds):
        bounds = type_.__metadata__[0]
        return [f"if type({var}) is not int or not {bounds.low} <= {var} <= {bounds.high}: raise _Slow"]
    if type_ is str:
        return [f"if type({var}) is not str: raise _Slow"]
    if type_ is float:
        return [f"if type({var}) is not float or {var} != {var} or {var} in _INF: raise _Slow"]
    if type_ is bool:
        return [f"if {var} is not True and {var} is not False: raise _Slow"]
    args = get_args(type_)
    if get_origin(type_) is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = nested(args[0])
        name = f"_item_{len(env)}"
        env[name] = item
        return [f"if type({var}) is not list: raise _Slow", f"{var} = tuple([{name}(x) for x in {var}])"]
    if attrs.has(type_):
        name = f"_nested_{len(env)}"
        env[name] = nested(type_)
        return [f"{var} = {name}({var})"]
    raise _NotFlat(type_)


def _generate(cls: Any, nested: Callable[[Any], Any]) -> Fast:
    if getattr(cls, "checked_at_construction", False):
        raise _NotFlat(cls.__name__)  # the general path builds it without its checks
    hints = typing.get_type_hints(cls, include_extras=True)
    env: Dict[str, Any] = {"_Slow": _Slow, "_cls": cls, "_INF": (float("inf"), float("-inf"))}
    lines = ["def fast(obj):", "    get = obj.get"]
    names = []
    for index, field in enumerate(attrs.fields(cls)):
        if field.metadata.get(CATCH_ALL) or field.metadata.get(ALIASES) or WIRE_DEFAULT in field.metadata:
            raise _NotFlat(field.name)
        var = f"v{index}"
        type_ = hints[field.name]
        inner = [a for a in get_args(type_) if a is not type(None)]
        optional = get_origin(type_) is typing.Union and len(inner) == 1
        checks = _check(var, inner[0] if optional else type_, env, nested)
        if field.default is attrs.NOTHING:
            lines.append(f"    {var} = obj[{field.name!r}]")
            lines.extend(f"    {check}" for check in checks)
        elif optional:
            lines.append(f"    {var} = get({field.name!r})")
            lines.append(f"    if {var} is not None:")
            lines.extend(f"        {check}" for check in checks)
        else:  # defaulted: absent or null means the default
            default = f"_default_{index}"
            env[default] = field.default.factory() if isinstance(field.default, attrs.Factory) else field.default  # type: ignore[arg-type]
            lines.append(f"    {var} = get({field.name!r})")
            lines.append(f"    if {var} is None:")
            lines.append(f"        {var} = {default}")
            lines.append("    else:")
            lines.extend(f"        {check}" for check in checks)
        names.append(f"{field.name}={var}")
    if _plain_slots(cls):  # fill the slots directly: the frozen __init__ costs twice as much
        lines.append("    o = _new(_cls)")
        for index, field in enumerate(attrs.fields(cls)):
            env[f"_set{index}"] = getattr(cls, field.name).__set__
            lines.append(f"    _set{index}(o, v{index})")
        lines.append("    return o")
        env["_new"] = object.__new__
    else:
        lines.append(f"    return _cls({', '.join(names)})")
    exec("\n".join(lines), env)  # our own generated source, from attrs metadata
    fast: Fast = env["fast"]
    return fast


def _plain_slots(cls: Any) -> bool:
    """Whether ``__init__`` only stores its arguments (no converter, validator or post-init)."""
    return (
        "__slots__" in cls.__dict__
        and not hasattr(cls, "__attrs_post_init__")
        and all(f.converter is None and f.validator is None for f in attrs.fields(cls))
    )


class _Slow(Exception):
    """The fast path is not sure: use the general one."""


def fast_structure(cls: Any, general: Callable[[Any], Callable[[Any, Any], Any]]) -> Optional[Fast]:
    """A generated structure function for ``cls``, or None when it is not flat enough.

    ``general(type)`` returns the converter's hook for a nested type; nested flat types get
    their own generated function, others call the hook (which raises on anything wrong).
    """

    def nested(type_: Any) -> Callable[[Any], Any]:
        inner = fast_structure(type_, general) if attrs.has(type_) else None
        if inner is not None:

            def structure_flat(value: Any) -> Any:
                if type(value) is not dict:
                    raise _Slow
                return inner(value)

            return structure_flat
        hook = general(type_)
        return lambda value: hook(value, type_)

    try:
        return _generate(cls, nested)
    except _NotFlat:
        return None
