"""Property-based tests of the wire codec (hypothesis).

* Decoders never raise anything but ``ProtocolError``, whatever the frame: random bytes, random
  text, arbitrary JSON, message-shaped JSON, and almost-valid messages with one field mutated.
  A mutation that removes a required field or puts a wrong-typed value in it must be reported
  with the message type and the dotted path of that field.
* Every message class round-trips through ``encode_*`` / ``decode_*``; the encoded object has
  ``type`` first, no duplicate keys and no ``null`` anywhere.
* Optional (and omit-if-default) fields are omitted from the wire exactly when they hold their
  default; every other field is always written.

Strategies are derived from the attrs fields and their ``Annotated`` metadata (scalars.py), so a
field added to a model is covered without touching this file.
"""

from __future__ import annotations

import functools
import json
from typing import (
    Annotated,
    Any,
    Callable,
    Dict,
    Iterator,
    List,
    Optional,
    Tuple,
    Union,
    get_args,
    get_origin,
)

import attrs
import pytest
from hypothesis import HealthCheck, event, example, given, settings, strategies as st

from lasersell_sync.errors import ProtocolError
from lasersell_sync.proto import (
    MarketContext,
    PositionOpened,
    UnknownMessage,
    decode_client,
    decode_server,
    encode_client,
    encode_server,
    to_wire,
)
from lasersell_sync.proto.client import CLIENT_MESSAGE_TYPES, CLIENT_TYPE_ALIASES
from lasersell_sync.proto.scalars import CATCH_ALL, OMIT_IF_DEFAULT, WIRE_DEFAULT, IntBounds, OneOrMany
from lasersell_sync.proto.server import SERVER_MESSAGE_TYPES
from lasersell_sync.proto.strategy_rules import unchecked

NoneType = type(None)
ALL_CLASSES: Tuple[Any, ...] = SERVER_MESSAGE_TYPES + CLIENT_MESSAGE_TYPES
DECODERS: List[Callable[[Any], Any]] = [decode_server, decode_client]

# Budgets chosen to keep the whole file around 10 s on 2 cores.
FUZZ = settings(max_examples=120, deadline=None)
ACROSS_CLASSES = settings(max_examples=80, deadline=None)
# Deeply nested models (configure, position_opened) make large examples; that is the point.
PER_CLASS = settings(
    max_examples=35, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
MUTATIONS = settings(PER_CLASS, max_examples=25)  # each example tries ~15 mutations of every field


def _decoder(cls: Any) -> Callable[[Any], Any]:
    return decode_server if cls in SERVER_MESSAGE_TYPES else decode_client


def _encoder(cls: Any) -> Callable[[Any], str]:
    return encode_server if cls in SERVER_MESSAGE_TYPES else encode_client


def _try_decode(decode: Callable[[Any], Any], frame: Any) -> Tuple[Any, Optional[ProtocolError]]:
    """Decode; return ``(message, None)`` or ``(None, error)``. Any other exception fails the test."""
    try:
        return decode(frame), None
    except ProtocolError as exc:
        return None, exc


def _decode_or_protocol_error(decode: Callable[[Any], Any], frame: Any) -> Optional[ProtocolError]:
    return _try_decode(decode, frame)[1]


# --------------------------------------------------------------------------------------------
# Type introspection: the wire type of every attrs field
# --------------------------------------------------------------------------------------------


@functools.cache
def _fields(cls: Any) -> Tuple[Any, ...]:
    attrs.resolve_types(cls, include_extras=True)
    fields = attrs.fields(cls)
    for field in fields:
        assert not isinstance(field.type, str), f"{cls.__name__}.{field.name} type not resolved"
    return tuple(fields)


def _unwrap_optional(tp: Any) -> Tuple[Any, bool]:
    if get_origin(tp) is Union:
        args = get_args(tp)
        rest = [a for a in args if a is not NoneType]
        if len(rest) == 1 and len(args) == 2:
            return rest[0], True
    return tp, False


def _annotation(tp: Any) -> Any:
    """The first ``Annotated`` metadata object (IntBounds, OneOrMany), or None."""
    if get_origin(tp) is Annotated:
        return tp.__metadata__[0]
    return None


def _tuple_item(tp: Any) -> Any:
    args = get_args(tp)
    if get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis:
        return args[0]
    return None


@attrs.frozen
class Kind:
    """What JSON a field accepts, reduced to what the properties need."""

    name: str  # int | float | str | bool | tuple | attrs | any
    bounds: Optional[IntBounds] = None
    item: Any = None  # item type of a tuple
    cls: Any = None  # the attrs class
    one_or_many: bool = False

    @property
    def accepts(self) -> frozenset:  # type: ignore[type-arg]
        """JSON kinds (see _json_kind) that can be valid for this field, ignoring ranges."""
        return {
            "int": frozenset({"int", "float"}),
            "float": frozenset({"int", "float"}),
            "str": frozenset({"str"}),
            "bool": frozenset({"bool"}),
            "tuple": frozenset({"list", "str"}) if self.one_or_many else frozenset({"list"}),
            "attrs": frozenset({"dict"}),
            "any": frozenset({"null", "bool", "int", "float", "str", "list", "dict"}),
        }[self.name]


def _kind(tp: Any) -> Kind:
    meta = _annotation(tp)
    if isinstance(meta, IntBounds):
        return Kind("int", bounds=meta)
    if isinstance(meta, OneOrMany):
        inner = get_args(tp)[0]
        return Kind("tuple", item=_tuple_item(inner), one_or_many=True)
    if meta is not None:
        raise TypeError(f"unknown Annotated metadata {meta!r}")
    if tp is str:
        return Kind("str")
    if tp is bool:
        return Kind("bool")
    if tp is float:
        return Kind("float")
    if _tuple_item(tp) is not None:
        return Kind("tuple", item=_tuple_item(tp))
    if attrs.has(tp):
        return Kind("attrs", cls=tp)
    if get_origin(tp) is dict:
        return Kind("any")
    raise TypeError(f"no strategy for wire type {tp!r}")


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict"}[type(value)]


# --------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------

FINITE_FLOATS = st.floats(allow_nan=False, allow_infinity=False)
HUGE_INTS = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**500), max_value=10**500),  # beyond 64 bits and beyond a double
    st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 2**53 + 1, 10**400]),
)


def _json_values(ints: st.SearchStrategy[int], *, null: bool = True) -> st.SearchStrategy[Any]:
    scalars = [st.booleans(), ints, FINITE_FLOATS, st.text(max_size=12)]
    if null:
        scalars.insert(0, st.none())
    return st.recursive(
        st.one_of(*scalars),
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
        max_leaves=12,
    )


JSON_VALUES = _json_values(HUGE_INTS)
# Values of unknown keys in generated models: anything but null, which the wire never writes.
WIRE_JSON_VALUES = _json_values(HUGE_INTS, null=False)


def _sized_ints(bounds: IntBounds) -> st.SearchStrategy[int]:
    return st.one_of(
        st.integers(min_value=bounds.low, max_value=bounds.high),
        st.sampled_from(sorted({bounds.low, bounds.high, max(bounds.low, min(bounds.high, 2**53 + 1))})),
    )


def _extra_strategy(cls: Any, values: st.SearchStrategy[Any]) -> st.SearchStrategy[Dict[str, Any]]:
    names = frozenset(f.name for f in _fields(cls))
    keys = st.text(max_size=10).filter(lambda k: k not in names)
    return st.one_of(st.just({}), st.dictionaries(keys, values, max_size=3))


def _strategy(tp: Any) -> st.SearchStrategy[Any]:
    tp, is_optional = _unwrap_optional(tp)
    kind = _kind(tp)
    base: st.SearchStrategy[Any]
    if kind.name == "int":
        assert kind.bounds is not None
        base = _sized_ints(kind.bounds)
    elif kind.name == "float":
        base = FINITE_FLOATS
    elif kind.name == "str":
        base = st.text()
    elif kind.name == "bool":
        base = st.booleans()
    elif kind.name == "tuple":
        base = st.lists(_strategy(kind.item), max_size=3).map(tuple)
    elif kind.name == "attrs":
        base = instances(kind.cls)
    else:
        raise TypeError(f"{tp!r} is only supported as a catch-all field")
    return st.one_of(st.none(), base) if is_optional else base


@functools.cache
def instances(cls: Any) -> st.SearchStrategy[Any]:
    """Valid instances of a model, every field drawn from its declared wire type."""
    kwargs: Dict[str, st.SearchStrategy[Any]] = {}
    for field in _fields(cls):
        if field.metadata.get(CATCH_ALL):
            kwargs[field.name] = _extra_strategy(cls, WIRE_JSON_VALUES)
        else:
            kwargs[field.name] = _strategy(field.type)
    return st.builds(functools.partial(_unchecked, cls), **kwargs)


def _unchecked(cls: Any, **kwargs: Any) -> Any:
    """Any value its wire type allows: a strategy's own checks are not the codec's (see below)."""
    with unchecked():
        return cls(**kwargs)


def _type_names() -> List[str]:
    return [cls.TYPE for cls in ALL_CLASSES] + list(CLIENT_TYPE_ALIASES)


def _message_shaped() -> st.SearchStrategy[Dict[str, Any]]:
    """JSON objects with a known ``type`` and a random subset of that class's keys, random values."""

    def for_class(cls: Any) -> st.SearchStrategy[Dict[str, Any]]:
        optional = {f.name: JSON_VALUES for f in _fields(cls)}
        return st.fixed_dictionaries({"type": st.just(cls.TYPE)}, optional=optional)

    known = st.sampled_from(ALL_CLASSES).flatmap(for_class)
    other = st.fixed_dictionaries(
        {"type": st.one_of(st.sampled_from(_type_names()), JSON_VALUES)},
        optional={"wallet_pubkey": JSON_VALUES, "position_id": JSON_VALUES},
    )
    return st.one_of(known, other)


JSONISH_TEXT = st.one_of(
    st.text(alphabet='{}[]":,0123456789.eE+-truefalsn \\/_type', max_size=80),
    st.builds(
        lambda t, rest: '{"type":' + json.dumps(t) + "," + rest,
        st.sampled_from(_type_names()),
        st.text(alphabet='{}[]":,0123456789.eE+-truefalsn \\/_abcdimopsuwy', max_size=60),
    ),
)
ANY_TEXT = st.one_of(st.text(), st.text(st.characters(codec=None, exclude_categories=())), JSONISH_TEXT)


# --------------------------------------------------------------------------------------------
# 1. Arbitrary frames
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("decode", DECODERS)
@FUZZ
@given(frame=st.one_of(st.binary(), JSONISH_TEXT.map(lambda s: s.encode("utf-8"))))
@example(frame=b"\xff\xfe{}")
@example(frame=b'{"type":"pong","server_time_ms":1,"x":"\xed\xa0\x80"}')  # encoded surrogate
@example(frame=b"[" * 100_000)
def test_arbitrary_bytes_raise_only_protocol_error(decode: Callable[[Any], Any], frame: bytes) -> None:
    _decode_or_protocol_error(decode, frame)
    _decode_or_protocol_error(decode, bytearray(frame))
    _decode_or_protocol_error(decode, memoryview(frame))


@pytest.mark.parametrize("decode", DECODERS)
@FUZZ
@given(frame=ANY_TEXT)
@example(frame='{"type":"pong","server_time_ms":1,"x":"\ud800"}')  # lone surrogate in a str frame
@example(frame="{" * 100_000)
@example(frame='{"type":"pong","server_time_ms":' + "9" * 5000 + "}")  # int digit limit
@example(frame='{"type":"pong","server_time_ms":1e400}')
@example(frame='{"type":"pong","server_time_ms":NaN}')
@example(frame='{"type":"pong","server_time_ms":-Infinity}')
def test_arbitrary_text_raises_only_protocol_error(decode: Callable[[Any], Any], frame: str) -> None:
    _decode_or_protocol_error(decode, frame)


# --------------------------------------------------------------------------------------------
# 2. Arbitrary JSON, message-shaped JSON, almost-valid messages
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("decode", DECODERS)
@FUZZ
@given(value=st.one_of(JSON_VALUES, _message_shaped()))
def test_arbitrary_json_raises_only_protocol_error(decode: Callable[[Any], Any], value: Any) -> None:
    decoded, error = _try_decode(decode, json.dumps(value))
    if type(value) is not dict:
        assert error is not None, "a frame that is not a JSON object must be rejected"
    if error is None:  # whatever decodes re-encodes to the same message
        encode = encode_server if decode is decode_server else encode_client
        assert decode(encode(decoded)) == decoded


POSITION_OPENED_WITH_CONTEXT = (
    '{"type":"position_opened","position_id":1,"wallet_pubkey":"w","mint":"m","token_account":"t",'
    '"tokens":1,"entry_quote_units":1,"slot":1,"market_context":{"market_type":"x","k":%s}}'
)


@pytest.mark.parametrize("decode", DECODERS)
@settings(max_examples=60, deadline=None)
@given(frame=JSONISH_TEXT)
@example(frame='{"type":"some_future_type","x":1e400}')  # beyond a double: std json reads inf
@example(frame=POSITION_OPENED_WITH_CONTEXT % "-1e999")
@example(frame=POSITION_OPENED_WITH_CONTEXT % "[18446744073709551617, 1.5]")
@example(frame='{"type":"some_future_type","x":' + "1" * 400 + "}")
def test_decoded_frames_re_encode_to_the_same_message(decode: Callable[[Any], Any], frame: str) -> None:
    """Whatever a decoder accepts, its encoder writes back without loss and without ``null``."""
    decoded, error = _try_decode(decode, frame)
    if error is not None:
        return
    encode = encode_server if decode is decode_server else encode_client
    text = encode(decoded)
    assert decode(text) == decoded, text
    _assert_no_null(json.loads(text))


@attrs.frozen
class Target:
    """One place in a message's wire dict that a mutation can hit."""

    segs: Tuple[Union[str, int], ...]  # path from the top-level dict; ints index arrays
    kind: Kind
    presence: str  # required | optional | defaulted | element | extra
    field: Any = None  # the attrs field (None for array elements and extra keys)

    @property
    def path(self) -> str:
        out = ""
        for seg in self.segs:
            out += f"[{seg}]" if isinstance(seg, int) else (f".{seg}" if out else seg)
        return out


def _presence(field: Any) -> str:
    if field.default is attrs.NOTHING:
        return "required"
    if field.default is None:
        return "optional"
    return "defaulted"


def _targets(cls: Any, wire: Dict[str, Any], prefix: Tuple[Union[str, int], ...]) -> Iterator[Target]:
    known = set()
    for field in _fields(cls):
        if field.metadata.get(CATCH_ALL):
            continue
        known.add(field.name)
        tp, _ = _unwrap_optional(field.type)
        kind = _kind(tp)
        segs = (*prefix, field.name)
        yield Target(segs, kind, _presence(field), field)
        yield from _nested_targets(kind, wire.get(field.name), segs)
    if any(f.metadata.get(CATCH_ALL) for f in _fields(cls)):
        for key in wire:
            if key not in known:
                yield Target((*prefix, key), Kind("any"), "extra")


def _nested_targets(kind: Kind, value: Any, segs: Tuple[Union[str, int], ...]) -> Iterator[Target]:
    if kind.name == "attrs" and type(value) is dict:
        yield from _targets(kind.cls, value, segs)
    elif kind.name == "tuple" and type(value) is list:
        item_kind = _kind(_unwrap_optional(kind.item)[0])
        for index, item in enumerate(value):
            yield Target((*segs, index), item_kind, "element")
            yield from _nested_targets(item_kind, item, (*segs, index))


DELETE = object()
POOL = [True, False, 42, 0.5, "text", [], [1, "a"], {}, {"k": [None]}]


@attrs.frozen
class Mutation:
    name: str
    value: Any  # DELETE removes the key (or the array item)
    expect: str  # error | ok | either


def _null_expectation(target: Target) -> str:
    return "error" if target.presence in ("required", "element") else "ok"


def _mutations(target: Target) -> st.SearchStrategy[Mutation]:
    kind = target.kind
    if kind.name == "any":  # an unknown key of MarketContext: kept whatever it holds
        return st.one_of(
            st.just(Mutation("delete", DELETE, "ok")),
            JSON_VALUES.map(lambda v: Mutation("garbage", v, "ok")),
        )
    delete = "error" if target.presence == "required" else "ok"
    options = [
        st.just(Mutation("delete", DELETE, delete)),
        st.just(Mutation("null", None, _null_expectation(target))),
        st.sampled_from([v for v in POOL if _json_kind(v) not in kind.accepts]).map(
            lambda v: Mutation("wrong_type", v, "error")
        ),
    ]

    def garbage(value: Any) -> Mutation:
        if value is None:
            return Mutation("garbage", value, _null_expectation(target))
        if _json_kind(value) not in kind.accepts:
            return Mutation("garbage", value, "error")
        return Mutation("garbage", value, "either")

    options.append(JSON_VALUES.map(garbage))
    if kind.name == "int":
        assert kind.bounds is not None
        low, high = kind.bounds.low, kind.bounds.high
        options += [
            st.sampled_from([True, False]).map(lambda v: Mutation("bool_for_int", v, "error")),
            _sized_ints(kind.bounds).map(lambda v: Mutation("str_for_int", str(v), "error")),
            st.one_of(
                st.sampled_from([low - 1, high + 1, 2**64, -(2**63) - 1, 10**30, 10**400, -(10**400)]),
                st.integers(max_value=low - 1),
                st.integers(min_value=high + 1),
            )
            .filter(lambda v: not low <= v <= high)
            .map(lambda v: Mutation("out_of_range", v, "error")),
            st.sampled_from([0.5, -1.5, 1e300, float(2**53) * 4]).map(
                lambda v: Mutation("non_integral_or_inexact_float", v, "error")
            ),
            st.just(Mutation("integral_float", 7.0, "ok")),
        ]
    elif kind.name == "float":
        options += [
            st.sampled_from([10**400, -(10**400)]).map(lambda v: Mutation("out_of_range", v, "error")),
            st.just(Mutation("int_for_float", 3, "ok")),
        ]
    return st.one_of(*options)


def _apply(wire: Any, segs: Tuple[Union[str, int], ...], value: Any) -> Any:
    """A copy of ``wire`` with the value at ``segs`` replaced (or deleted); ``wire`` is unchanged."""
    if not segs:
        return value
    head, rest = segs[0], segs[1:]
    out: Any = list(wire) if isinstance(wire, list) else dict(wire)  # copy the path only
    if rest:
        out[head] = _apply(out[head], rest, value)
    elif value is not DELETE:
        out[head] = value
    elif isinstance(out, dict):
        out.pop(head, None)
    else:
        del out[head]
    return out


def _get(obj: Any, segs: Tuple[Union[str, int], ...]) -> Any:
    for seg in segs:
        obj = obj[seg] if isinstance(seg, int) else getattr(obj, seg)
    return obj


def _python_default(field: Any) -> Any:
    if isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
        return field.default.factory()
    return field.default


def _absent_value(field: Any) -> Any:
    """What an absent (or null) key decodes to."""
    if WIRE_DEFAULT in field.metadata:
        return field.metadata[WIRE_DEFAULT]
    return _python_default(field)


def _fixed_mutations(target: Target) -> List[Mutation]:
    """The deterministic mutations of a target: every example applies all of them."""
    kind = target.kind
    if kind.name == "any":
        return [Mutation("delete", DELETE, "ok"), Mutation("garbage", {"k": [None, 1.5]}, "ok")]
    out = [
        Mutation("delete", DELETE, "error" if target.presence == "required" else "ok"),
        Mutation("null", None, _null_expectation(target)),
    ]
    out += [Mutation("wrong_type", v, "error") for v in POOL if _json_kind(v) not in kind.accepts]
    if kind.name == "int":
        assert kind.bounds is not None
        low, high = kind.bounds.low, kind.bounds.high
        out += [
            Mutation("bool_for_int", True, "error"),
            Mutation("str_for_int", str(low), "error"),
            Mutation("out_of_range", low - 1, "error"),
            Mutation("out_of_range", high + 1, "error"),
            Mutation("out_of_range", 10**400, "error"),
            Mutation("non_integral_or_inexact_float", 0.5, "error"),
            Mutation("non_integral_or_inexact_float", 1e300, "error"),
            Mutation("integral_float", 7.0, "ok"),
        ]
    elif kind.name == "float":
        out += [Mutation("out_of_range", -(10**400), "error"), Mutation("int_for_float", 3, "ok")]
    return out


def _check_mutation(cls: Any, wire: Dict[str, Any], target: Target, mutation: Mutation) -> None:
    frame = json.dumps(_apply(wire, target.segs, mutation.value))
    where = f"{cls.TYPE}: {mutation.name} {mutation.value!r} at {target.path}"
    decoded, error = _try_decode(_decoder(cls), frame)
    if error is not None:
        assert mutation.expect != "ok", f"{where}: rejected: {error}"
        if mutation.expect == "error":
            assert error.message_type == cls.TYPE, f"{where}: {error}"
            assert error.field is not None, f"{where}: {error}"
            assert error.field.startswith(target.path), f"{where}: reported field {error.field!r}"
        return
    assert mutation.expect != "error", f"{where}: accepted as {decoded!r}"
    assert type(decoded) is cls
    if mutation.expect != "ok" or target.presence == "element":
        return
    if mutation.name in ("delete", "null") and target.field is not None:
        assert _get(decoded, target.segs) == _absent_value(target.field), where
    elif mutation.name == "integral_float":
        value = _get(decoded, target.segs)
        assert value == 7, where
        assert type(value) is int, where
    elif mutation.name == "int_for_float":
        value = _get(decoded, target.segs)
        assert value == 3.0, where
        assert type(value) is float, where


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.TYPE)
@MUTATIONS
@given(data=st.data())
def test_almost_valid_message(cls: Any, data: st.DataObject) -> None:
    """Every target of a valid message gets every fixed mutation, and one target a random one."""
    message = data.draw(instances(cls), label="message")
    wire = to_wire(message)
    targets = list(_targets(cls, wire, ()))
    for target in targets:
        for mutation in _fixed_mutations(target):
            _check_mutation(cls, wire, target, mutation)
    target = data.draw(st.sampled_from(targets), label="target")
    mutation = data.draw(_mutations(target), label="mutation")
    event(f"{mutation.name}: expect {mutation.expect}")
    _check_mutation(cls, wire, target, mutation)


@ACROSS_CLASSES
@given(data=st.data())
def test_type_key_mutations(data: st.DataObject) -> None:
    cls = data.draw(st.sampled_from(ALL_CLASSES), label="class")
    message = data.draw(instances(cls), label="message")
    wire = to_wire(message)
    decode = _decoder(cls)
    tag = data.draw(st.one_of(st.just(DELETE), JSON_VALUES, st.text()), label="type")
    known = set(_type_names())
    mutated = _apply(wire, ("type",), tag)
    decoded, error = _try_decode(decode, json.dumps(mutated))
    if type(tag) is not str:  # absent, null, or not a string
        assert error is not None
        assert error.field == "type"
    elif tag in known:  # another known type: the other fields decide
        assert error is None or error.message_type == tag
    elif decode is decode_server:
        del mutated["type"]
        assert decoded == UnknownMessage(type=tag, fields=mutated)
    else:
        assert error is not None, "a client decoder must not guess at an unknown command"
        assert error.message_type == tag


# --------------------------------------------------------------------------------------------
# 3. Round trip of valid messages
# --------------------------------------------------------------------------------------------


def _pairs_without_duplicates(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), f"duplicate keys in {keys}"
    return dict(pairs)


def _assert_no_null(value: Any, path: str = "$") -> None:
    assert value is not None, f"null written at {path}"
    if isinstance(value, dict):
        for key, item in value.items():
            _assert_no_null(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _assert_no_null(item, f"{path}[{index}]")


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.TYPE)
@PER_CLASS
@given(data=st.data())
def test_round_trip(cls: Any, data: st.DataObject) -> None:
    message = data.draw(instances(cls), label="message")
    text = _encoder(cls)(message)
    assert _decoder(cls)(text) == message
    assert _decoder(cls)(text.encode("utf-8")) == message
    obj = json.loads(text, object_pairs_hook=_pairs_without_duplicates)
    assert next(iter(obj)) == "type"
    assert obj["type"] == cls.TYPE
    assert obj == to_wire(message)
    _assert_no_null(obj)


BIG_INTS = st.one_of(
    st.integers(min_value=2**64, max_value=10**300),
    st.integers(min_value=-(10**300), max_value=-(2**63) - 1),
)
RAW_VALUES = st.one_of(BIG_INTS, st.lists(BIG_INTS, max_size=2), JSON_VALUES)


@settings(max_examples=30, deadline=None)
@given(
    extra=st.dictionaries(
        st.text(max_size=10).filter(lambda k: k not in attrs.fields_dict(MarketContext)),
        RAW_VALUES,
        min_size=1,
        max_size=3,
    )
)
def test_market_context_extra_kept_verbatim(extra: Dict[str, Any]) -> None:
    """Unknown keys are "kept verbatim and written back", integers beyond 64 bits included."""
    message = PositionOpened(
        position_id=1,
        wallet_pubkey="w",
        mint="m",
        token_account="t",
        tokens=1,
        entry_quote_units=1,
        slot=1,
        market_context=MarketContext(market_type="pump_fun", extra=extra),
    )
    assert decode_server(encode_server(message)) == message


@settings(max_examples=30, deadline=None)
@given(
    tag=st.text().filter(lambda t: t not in _type_names()),
    fields=st.dictionaries(st.text(max_size=10).filter(lambda k: k != "type"), RAW_VALUES, max_size=3),
)
def test_unknown_message_kept_verbatim(tag: str, fields: Dict[str, Any]) -> None:
    message = UnknownMessage(type=tag, fields=fields)
    text = encode_server(message)
    assert next(iter(json.loads(text))) == "type"
    assert decode_server(text) == message


# --------------------------------------------------------------------------------------------
# 4. Optional fields are omitted exactly when None
# --------------------------------------------------------------------------------------------


def _assert_omission(value: Any, wire: Any, path: str) -> None:
    value_type: Any = type(value)
    if attrs.has(value_type):
        assert type(wire) is dict, path
        for field in _fields(value_type):
            if field.metadata.get(CATCH_ALL):
                for key, item in getattr(value, field.name).items():
                    assert wire[key] == item, f"{path}.{key}"
                continue
            item = getattr(value, field.name)
            where = f"{path}.{field.name}"
            if field.default is None:
                assert (field.name in wire) == (item is not None), where
            elif field.metadata.get(OMIT_IF_DEFAULT):
                assert (field.name in wire) == (item != _python_default(field)), where
            else:
                assert field.name in wire, f"{where} must always be written"
            if field.name in wire:
                _assert_omission(item, wire[field.name], where)
    elif isinstance(value, tuple):
        assert type(wire) is list, path
        assert len(wire) == len(value), path
        for index, (item, wire_item) in enumerate(zip(value, wire)):
            _assert_omission(item, wire_item, f"{path}[{index}]")
    elif isinstance(value, float):
        assert type(wire) is float, path
        assert wire == value, path
    else:
        assert wire == value, path
        assert type(wire) is type(value), path


@ACROSS_CLASSES
@given(data=st.data())
def test_optional_fields_omitted_exactly_when_none(data: st.DataObject) -> None:
    cls = data.draw(st.sampled_from(ALL_CLASSES), label="class")
    message = data.draw(instances(cls), label="message")
    text = _encoder(cls)(message)
    _assert_omission(message, json.loads(text), "$")
