"""Immutable records for the webhook path: `@dataclass(frozen=True)` without its cold-start cost.

Importing dataclasses brings in inspect (and with it ast, dis, tokenize) and builds every class
through its general machinery: about a fifth of a webhook-mode cold start (`make bench`). A
record is a class whose annotated attributes are its fields, in order, each with an optional
default; its instances cannot be changed, compare and hash by their compared fields and show
their shown fields in repr(). `replace()` returns a copy with some fields changed. Modules that
only Slack app mode imports keep dataclasses.
"""

from __future__ import annotations

# typing costs cold-start time and is only needed by type checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    T = TypeVar("T")

_MISSING = object()
_set = object.__setattr__


class Field:
    """A field's options, as dataclasses.field() takes them (only those the records use)."""

    __slots__ = ("compare", "default", "repr")

    def __init__(self, default: object, *, repr: bool, compare: bool) -> None:
        self.default = default
        self.repr = repr
        self.compare = compare


def field(*, default: object = _MISSING, repr: bool = True, compare: bool = True) -> Any:  # noqa: ANN401 - stands in for the field's value
    """A field with a default that is left out of repr() or out of comparisons."""
    return Field(default, repr=repr, compare=compare)


class FrozenRecordError(AttributeError):
    """A record's fields cannot be assigned or deleted."""


def _frozen_setattr(self: object, name: str, value: object) -> None:
    raise FrozenRecordError(f"cannot assign to field {name!r} of {type(self).__name__}")


def _frozen_delattr(self: object, name: str) -> None:
    raise FrozenRecordError(f"cannot delete field {name!r} of {type(self).__name__}")


def frozen(cls: type[T]) -> type[T]:
    """Make `cls` an immutable record of its annotated attributes (see the module docstring)."""
    # Not inspect.get_annotations: inspect is what this module avoids importing.
    names = list(cls.__dict__.get("__annotations__", {}))  # noqa: RUF063
    specs: dict[str, Field] = {}
    for name in names:
        value = cls.__dict__.get(name, _MISSING)
        spec = value if isinstance(value, Field) else Field(value, repr=True, compare=True)
        if spec.default is _MISSING and any(
            specs[earlier].default is not _MISSING for earlier in specs
        ):
            raise TypeError(f"{cls.__name__}: field {name!r} without a default follows a default")
        specs[name] = spec
        if value is not _MISSING:
            if spec.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, spec.default)
    # One generated __init__ per class: keyword or positional arguments, as dataclasses makes it.
    scope: dict[str, object] = {"_set": _set}
    params = []
    for name, spec in specs.items():
        if spec.default is _MISSING:
            params.append(name)
        else:
            scope[f"_d_{name}"] = spec.default
            params.append(f"{name}=_d_{name}")
    body = "".join(f"    _set(self, {n!r}, {n})\n" for n in specs) or "    pass\n"
    exec(f"def __init__(self, {', '.join(params)}):\n{body}", scope)  # noqa: S102 - our own names
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"  # type: ignore[attr-defined]

    compared = tuple(n for n, s in specs.items() if s.compare)
    shown = tuple(n for n, s in specs.items() if s.repr)

    def key(self: object) -> tuple[object, ...]:
        return tuple(getattr(self, n) for n in compared)

    def __eq__(self: object, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return key(self) == key(other)

    def __hash__(self: object) -> int:
        return hash(key(self))

    def __repr__(self: object) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in shown)
        return f"{type(self).__qualname__}({fields})"

    cls.__init__ = init  # type: ignore[misc]
    cls.__eq__ = __eq__  # type: ignore[method-assign,assignment]
    cls.__hash__ = __hash__  # type: ignore[method-assign,assignment]
    if "__repr__" not in cls.__dict__:
        cls.__repr__ = __repr__  # type: ignore[method-assign,assignment]
    cls.__setattr__ = _frozen_setattr  # type: ignore[method-assign,assignment]
    cls.__delattr__ = _frozen_delattr  # type: ignore[method-assign,assignment]
    cls.__record_fields__ = tuple(specs)  # type: ignore[attr-defined]
    return cls


def replace(obj: T, **changes: object) -> T:
    """A copy of the record `obj` with the named fields changed."""
    names = type(obj).__record_fields__  # type: ignore[attr-defined]
    unknown = set(changes) - set(names)
    if unknown:
        raise TypeError(f"{type(obj).__name__} has no field(s) {', '.join(sorted(unknown))}")
    values = {n: getattr(obj, n) for n in names}
    values.update(changes)
    return type(obj)(**values)


def is_record(obj: object) -> bool:
    """True for a record class or instance."""
    return hasattr(obj, "__record_fields__")
