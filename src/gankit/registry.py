"""Name -> object tables. Components are chosen by name; unknown names fail listing the valid ones."""
from __future__ import annotations

from typing import Callable, Generic, TypeVar

from .errors import GankitError

T = TypeVar("T")


class Registry(Generic[T]):
    """A small table of named components that can list itself."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}
        self._help: dict[str, str] = {}
        self._options: dict[str, type] = {}

    def register(self, name: str, help: str = "", options: type | None = None) -> Callable[[T], T]:
        """A decorator that registers an object under `name`; `options` is the dataclass of its config section."""
        def add(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} '{name}' registered twice")
            self._items[name] = obj
            if options is not None:
                self._options[name] = options
            doc = help or (getattr(obj, "__doc__", None) or "").strip().splitlines()
            self._help[name] = doc if isinstance(doc, str) else (doc[0] if doc else "")
            return obj

        return add

    def get(self, name: str) -> T:
        if name not in self._items:
            raise GankitError(f"unknown {self.kind} '{name}'; valid: {', '.join(self.names())}")
        return self._items[name]

    def options(self, name: str) -> type:
        """The dataclass of the config section named after the component."""
        self.get(name)
        return self._options[name]

    def names(self) -> list[str]:
        return sorted(self._items)

    def describe(self) -> dict[str, str]:
        """name -> one-line description, for `gankit list`."""
        return {name: self._help[name] for name in self.names()}

    def __contains__(self, name: str) -> bool:
        return name in self._items


NETWORKS: Registry = Registry("network")
LOSSES: Registry = Registry("loss")
DATASETS: Registry = Registry("dataset")
RECIPES: Registry = Registry("recipe")
PROTOCOLS: Registry = Registry("evaluation protocol")
EXTRACTORS: Registry = Registry("feature extractor")
