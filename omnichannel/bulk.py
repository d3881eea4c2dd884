"""Bulk writes for the hot ingest and routing paths with SQLAlchemy's per-statement overhead paid once.

``conn.execute(insert(Model), rows)`` compiles (cached), builds an execution context and runs
``construct_params`` plus every column's bind processor for each row: for a webform batch of 25
envelopes that is most of the transaction's CPU. ``insert_rows`` compiles the INSERT once per
dialect and column set, converts each row with the same bind processors SQLAlchemy would use (so
what is stored is identical: the same datetime text on SQLite, the same JSON; a test compares them
on both backends), and hands the rows to the driver's ``executemany`` in one call (sqlite3, or
asyncpg through SQLAlchemy's adaptor). ``update_rows`` and ``select_in`` do the same for keyed
UPDATEs and ``WHERE col IN (...)`` lookups on SQLite. All run inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite

# the SQL, its parameters in order, their bind processors, and scalar defaults of columns the rows lack
_Compiled = tuple[str, tuple[str, ...], tuple[Callable[[Any], Any] | None, ...], dict[str, Any]]
_cache: dict[tuple[Any, ...], Any] = {}


def _table(model: Any) -> Table:
    return model.__table__ if hasattr(model, "__table__") else model


def _insert(conn: Connection, model: Any, ignore_conflict: tuple[str, ...] | None) -> Any:
    """The dialect's INSERT of ``model``'s table, with ``ON CONFLICT DO NOTHING`` on ``ignore_conflict``."""
    stmt = (sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert)(_table(model))
    if ignore_conflict is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(ignore_conflict))
    return stmt


def _compiled(conn: Connection, model: Any, columns: tuple[str, ...],
              ignore_conflict: tuple[str, ...] | None) -> _Compiled:
    dialect = conn.dialect
    table = _table(model)
    key = (dialect.name, table.name, columns, ignore_conflict)
    hit = _cache.get(key)
    if hit is None:
        # inline: no RETURNING of the generated key (executemany has nowhere to put it)
        stmt = _insert(conn, table, ignore_conflict).values({c: bindparam(c) for c in columns}).inline()
        compiled = stmt.compile(dialect=dialect)
        order = tuple(compiled.positiontup or ())
        defaults: dict[str, Any] = {}
        for c in set(order) - set(columns):  # SQLAlchemy adds columns that have a default
            default = table.c[c].default
            if default is None or not default.is_scalar:
                raise _NotBulk(f"{table.name}.{c} has a default that is not a constant")
            defaults[c] = default.arg
        if set(order) != set(columns) | set(defaults):  # pragma: no cover - a dialect we did not expect
            raise _NotBulk(f"unexpected parameters for {table.name}: {order}")
        procs = tuple(table.c[c].type._cached_bind_processor(dialect) for c in order)
        hit = _cache[key] = (compiled.string, order, procs, defaults)
    return hit


class _NotBulk(Exception):
    """This insert cannot take the driver-level path: SQLAlchemy's own runs it."""


def fast(conn: Connection) -> bool:
    """True on SQLite, where ``select_in`` and ``update_rows`` (qmark SQL) apply; inserts also take the
    driver-level path on asyncpg."""
    return conn.dialect.name == "sqlite"


def insert_rows(conn: Connection, model: Any, rows: Sequence[dict[str, Any]],
                ignore_conflict: tuple[str, ...] | None = None) -> int:
    """INSERT ``rows`` (dicts with the same keys) into ``model``'s table in one driver call.

    ``ignore_conflict`` names the unique columns of an ``ON CONFLICT DO NOTHING``. Returns the
    driver's row count: the rows inserted on SQLite (asyncpg's ``executemany`` may not say: -1).
    """
    if not rows:
        return 0
    try:
        if not fast(conn) and conn.dialect.driver != "asyncpg":
            raise _NotBulk(f"driver {conn.dialect.driver}")
        sql, order, procs, defaults = _compiled(conn, model, tuple(rows[0]), ignore_conflict)
    except _NotBulk:  # SQLAlchemy's own INSERT, one execution context per row
        return conn.execute(_insert(conn, model, ignore_conflict), list(rows)).rowcount
    if defaults:
        rows = [{**defaults, **row} for row in rows]
    return conn.exec_driver_sql(sql, _params(rows, order, procs)).rowcount


def _params(rows: Sequence[dict[str, Any]], order: tuple[str, ...],
            procs: tuple[Callable[[Any], Any] | None, ...]) -> list[tuple]:
    values = itemgetter(*order)
    convert = [(i, p) for i, p in enumerate(procs) if p is not None]
    # a batch's rows mostly share their timestamps (``now``): each distinct datetime is converted once
    # (~8 us through the UTC type decorator and the dialect's string formatting)
    seen: dict[tuple[Any, ...], Any] = {}
    params = []
    for row in rows:
        out = list(values(row)) if len(order) > 1 else [values(row)]
        for i, p in convert:
            value = out[i]
            if value.__class__ is datetime:
                key = (i, value, value.tzinfo)  # equal instants in other zones may format apart
                done = seen.get(key, _MISSING)
                if done is _MISSING:
                    done = seen[key] = p(value)
                out[i] = done
            else:
                out[i] = p(value)
        params.append(tuple(out))
    return params


_MISSING = object()


def update_rows(conn: Connection, model: Any, rows: Sequence[dict[str, Any]], key: str = "id",
                only_where: tuple[str, Any] | None = None) -> int:
    """UPDATE one row of ``model``'s table per dict (``key`` picks the row, the other keys are set).

    ``only_where`` (column, value) adds a condition, e.g. ``("status", "received")``. SQLite only
    (see ``fast``); returns the number of rows changed.
    """
    if not rows:
        return 0
    table = _table(model)
    columns = tuple(c for c in rows[0] if c != key)
    cache_key = (conn.dialect.name, table.name, ("update", key, *columns), only_where and (only_where[0],))
    hit = _cache.get(cache_key)
    if hit is None:
        where = f'"{key}" = ?' + (f' AND "{only_where[0]}" = ?' if only_where else "")
        sql = f'UPDATE "{table.name}" SET ' + ", ".join(f'"{c}" = ?' for c in columns) + " WHERE " + where
        order = (*columns, key)
        procs = tuple(table.c[c].type._cached_bind_processor(conn.dialect) for c in order)
        hit = _cache[cache_key] = (sql, order, procs)
    sql, order, procs = hit
    params = _params(rows, order, procs)
    if only_where:
        proc = table.c[only_where[0]].type._cached_bind_processor(conn.dialect)
        extra = only_where[1] if proc is None else proc(only_where[1])
        params = [(*p, extra) for p in params]
    return conn.exec_driver_sql(sql, params).rowcount


def select_in(conn: Connection, sql: str, values: Iterable[Any], *before: Any, chunk: int = 500) -> list[tuple]:
    """Rows of ``sql`` (one ``IN ({in})`` placeholder, qmark parameters ``before`` it) for all ``values``.

    SQLite only (see ``fast``); the values are sent in chunks below SQLite's parameter limit.
    """
    values = list(values)
    out: list[tuple] = []
    for start in range(0, len(values), chunk):
        part = values[start:start + chunk]
        stmt = sql.replace("{in}", ",".join("?" * len(part)))
        out.extend(tuple(r) for r in conn.exec_driver_sql(stmt, (*before, *part)).fetchall())
    return out
