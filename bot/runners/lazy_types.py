"""Build aiogram's Telegram types when first used, not all ~400 of them at import.

`import aiogram.types` ends by calling ``model_rebuild`` on every type, which compiles a pydantic
validator for each (most of `huhuqing chat`'s start-up: bench/README.md, "Console start-up").
During that import, :func:`import_aiogram_types_deferred` only records the namespace those calls
pass; pydantic then builds a type on its first use from that namespace, as it does for any model
whose forward references were not resolved yet. Must run before anything imports aiogram.
"""

from __future__ import annotations

import inspect
import sys
from typing import Any


def import_aiogram_types_deferred() -> None:
    """Import aiogram.types with each type's validator left to its first use."""
    from pydantic import BaseModel

    original = BaseModel.model_rebuild.__func__  # type: ignore[attr-defined]
    parameters = inspect.signature(original).parameters
    if "aiogram.types" in sys.modules or "_types_namespace" not in parameters:
        return  # already imported, or a pydantic this was not written for: build as usual

    namespaces: list[dict[str, Any]] = []

    def record(cls: type[BaseModel], **kwargs: Any) -> bool | None:
        namespace = kwargs.get("_types_namespace")
        if namespace is None or cls.__pydantic_complete__ or kwargs.get("force"):
            return original(cls, **kwargs)
        if not namespaces:
            namespaces.append(dict(namespace))
        return None

    BaseModel.model_rebuild = classmethod(record)  # type: ignore[assignment,method-assign]
    try:
        import aiogram  # noqa: F401  (its types and methods)
    finally:
        BaseModel.model_rebuild = classmethod(original)  # type: ignore[assignment,method-assign]
    if not namespaces:
        return
    for model in _subclasses(BaseModel):  # the methods too: they name the types
        if model.__module__.startswith("aiogram.") and not model.__pydantic_complete__:
            model.__pydantic_parent_namespace__ = namespaces[0]
    # A call's response type (Response[Message]) is made at the call, where the deferred types'
    # namespace is not: it fails unless what it returns was built first. Message, which nearly
    # every call returns, is built now (0.1 s), so that the console can show a notification
    # before any update has built it.
    from aiogram.types import Message

    Message.model_rebuild()


def _subclasses(base: type) -> list[type[Any]]:
    found, todo = [], [base]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return found
