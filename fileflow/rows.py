"""Rows written by every change (the activity log's), in one plain INSERT.

``QuerySet.bulk_create`` spends ~0.25 ms of Python building the statement for one row,
more than the database takes to run it (bench/transfer.py). The activity log's rows and
the task queue's (``jobs.backend``) are written this way. :func:`insert_rows` writes
what ``bulk_create`` would (every concrete field's value as the field prepares it for the
database, defaults and ``pre_save`` values such as ``auto_now_add`` included) from a
statement built once per model and row count.
Use it where a request writes rows of a model that has no save() or signal logic of its
own; everything else goes through the ORM.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Field, Model


def column(model: type[Model], name: str) -> str:
    """The quoted column of ``model``'s field ``name``, for a statement written out."""
    field = model._meta.get_field(name)
    assert isinstance(field, Field), f"{model.__name__}.{name} is not a column"
    return connection.ops.quote_name(str(field.column))


@cache
def _statement(model: type[Model], count: int) -> tuple[str, tuple[Field[Any, Any], ...], bool]:
    """The INSERT of ``count`` rows, the fields whose values it takes, and whether it
    returns the new ids (an auto-incremented id comes from the database; any other, such
    as a UUID, is the model's own and is sent)."""
    meta = model._meta  # the documented Model._meta API
    pk = meta.pk
    assert pk is not None
    returns = bool(pk.db_returning)
    fields = tuple(field for field in meta.concrete_fields if not (field is pk and returns))
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608 - names only
        f"VALUES {', '.join([row] * count)}"
    )
    if returns:
        sql += f" RETURNING {quote(str(pk.column))}"
    return sql, fields, returns


# Rows per statement: well under SQLite's limit of 32,766 parameters for any model here.
BATCH = 500


def insert_rows(objs: Sequence[Model]) -> None:
    """Save new ``objs`` (all of one model) in one INSERT per :data:`BATCH` rows and give
    them their ids. Both databases return the new ids in the order the rows were given
    (which ``bulk_create`` relies on too)."""
    for start in range(0, len(objs), BATCH):
        _insert(objs[start : start + BATCH])


def _insert(objs: Sequence[Model]) -> None:
    if not objs:
        return
    sql, fields, returns = _statement(type(objs[0]), len(objs))
    values = [
        field.get_db_prep_save(field.pre_save(obj, add=True), connection)
        for obj in objs
        for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        if returns:
            for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
                obj.pk = pk
    for obj in objs:
        obj._state.adding = False  # documented Model._state: the row exists now
        obj._state.db = connection.alias
