"""One way to turn a stored row into a service's model.

Each field is read from the column of the same name, so a query names its columns to match the
model (`r.name AS rota_name`) and a column added to a table later breaks no model: columns the
model does not declare are ignored, and fields the query does not select keep their defaults.
Times are stored as INTEGER Unix seconds and come back as aware datetimes (`from_ts`); 0/1 flags
become bools through pydantic's own validation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar, get_args

from pydantic import BaseModel

from bot.db import Row, from_ts

M = TypeVar("M", bound=BaseModel)


def _is_time(annotation: Any) -> bool:
    return annotation is datetime or datetime in get_args(annotation)


def model_of(model: type[M], row: Row, **given: Any) -> M:
    """The `model` that `row` stores; `given` supplies fields the row does not hold."""
    columns = set(row.keys())
    data: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if name in given:
            data[name] = given[name]
        elif name in columns:
            value = row[name]
            is_time = value is not None and _is_time(field.annotation)
            data[name] = from_ts(value) if is_time else value
    return model.model_validate(data)
