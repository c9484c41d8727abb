"""``column IN (a list)`` with the whole list bound as one parameter.

``column.in_(values)`` binds each value on its own: SQLAlchemy coerces every one, renders a
statement for that many placeholders on each call, and SQLite prepares that text anew. Here
the list travels as one value (a JSON array that SQLite unpacks with ``json_each``, an array
on PostgreSQL), so a statement is the same for any length of list. Hot paths build such a
statement once per dialect and execute it with the list as a parameter: building a statement
costs more than running it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Dialect, String, TypeDecorator, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import TypeEngine


class _List(TypeDecorator[list[Any]]):
    """A list parameter: JSON text on SQLite, an array on PostgreSQL."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(String))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value: Iterable[Any] | None, dialect: Dialect) -> Any:
        items = list(value or ())
        return items if dialect.name == "postgresql" else orjson.dumps(items).decode()


def one_of(column: Any, name: str, *, dialect: str) -> ColumnElement[bool]:
    """Return ``column IN :name``, where the parameter ``name`` is given a list of values."""
    values = bindparam(name, type_=_List())
    condition: ColumnElement[bool]
    if dialect == "postgresql":
        condition = column == any_(values)
    else:
        condition = column.in_(select(func.json_each(values).table_valued("value").c.value))
    return condition
