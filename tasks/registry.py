"""Name -> factory registries, shared by tasks and baselines, with entry-point discovery for plug-ins."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import traceback
from importlib.metadata import entry_points
from pathlib import Path
from typing import Callable, Generic, Iterator, NamedTuple, TypeVar

T = TypeVar("T")


class _Deferred(NamedTuple):
    """A built-in entry not imported yet: ``module:attribute``, imported at the first ``get``."""

    module: str
    attribute: str


class UnknownNameError(KeyError):
    """A name that is not registered; its message lists what is."""

    def __str__(self) -> str:
        return str(self.args[0])


class PluginError(ImportError, ValueError):
    """A plug-in that cannot be imported; one line naming it and the error (an ImportError for callers that
    catch those, a ValueError like every bad-input error of the suite)."""


def describe_error(error: BaseException) -> str:
    """One line: the error's type and message, and where in the plug-in's own code it was raised."""
    if isinstance(error, SyntaxError):
        return f"SyntaxError: {error.msg} ({Path(error.filename or '?').name}, line {error.lineno})"
    message = " ".join(str(error).split())
    frames = traceback.extract_tb(error.__traceback__)
    # the innermost frame outside the import machinery is the line of the plug-in that raised
    own = [f for f in frames if "importlib" not in f.filename]
    where = f" ({Path(own[-1].filename).name}, line {own[-1].lineno})" if own else ""
    return f"{type(error).__name__}: {message}{where}"


class Registry(Generic[T]):
    """Maps names to classes or factories.

    Outside packages add entries without editing this repository, either through the entry-point
    group ``entry_point_group`` (``name = "package.module:Object"``; loading the module runs its
    ``@register`` line) or by importing a module given on the command line (``load_module``).
    Built-in entries whose modules import heavy libraries (SMAC, Optuna) are ``defer``-red: named
    now, imported when first asked for, so a run of one baseline imports only that baseline's library.
    """

    def __init__(self, kind: str, entry_point_group: str) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._entries: dict[str, T | _Deferred] = {}
        #: entry-point plug-ins that failed to load: name -> the one-line error, shown by ``broken``
        self._broken: dict[str, str] = {}
        self._plugins_loaded = False

    def register(self, name: str) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            known = self._entries.get(name, obj)
            # a deferred entry is filled in by its own module's ``@register`` line when it is imported
            if known is not obj and not (isinstance(known, _Deferred) and known.module == getattr(obj, "__module__", None)):
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = obj
            return obj

        return decorator

    def add(self, name: str, obj: T) -> None:
        self.register(name)(obj)

    def defer(self, name: str, target: str) -> None:
        """Register ``name`` as ``"module:attribute"``, imported when ``get(name)`` first asks for it."""
        module, _, attribute = target.partition(":")
        self._entries.setdefault(name, _Deferred(module, attribute))

    def get(self, name: str) -> T:
        self._load_plugins()
        if name in self._broken:
            raise PluginError(f"{self.kind} {name!r} is a broken plug-in: {self._broken[name]}")
        try:
            entry = self._entries[name]
        except KeyError:
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}; registered: {', '.join(self.names())}"
            ) from None
        if isinstance(entry, _Deferred):
            obj: T = getattr(importlib.import_module(entry.module), entry.attribute)
            self._entries[name] = obj
            return obj
        return entry

    def names(self) -> list[str]:
        self._load_plugins()
        return list(self._entries)

    def broken(self) -> dict[str, str]:
        """Entry-point plug-ins that failed to load, name -> one-line error; they fail only when asked for."""
        self._load_plugins()
        return dict(self._broken)

    def __contains__(self, name: str) -> bool:
        self._load_plugins()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    @staticmethod
    def load_module(module: str) -> None:
        """Import a module whose ``@register`` lines add entries: ``--plugin my_pkg.my_baseline`` or a file,
        ``--plugin path/to/my_baseline.py`` (imported as module ``my_baseline``).

        Raises PluginError with one line naming the plug-in and its error (a syntax error, an exception
        raised while importing, a missing module).
        """
        try:
            if module.endswith(".py"):
                _import_file(Path(module))
            else:
                importlib.import_module(module)
        except PluginError:
            raise
        except Exception as error:  # a plug-in may raise anything while importing: one line, not a traceback
            if isinstance(error, ModuleNotFoundError) and error.name and module.startswith(error.name):
                raise PluginError(f"cannot import {module!r}: no module named {error.name!r} (give a module "
                                  "importable from here, e.g. my_pkg.my_baseline with its folder on PYTHONPATH, "
                                  "or a file path/to/my_baseline.py)") from None
            raise PluginError(f"cannot import {module!r}: {describe_error(error)}") from None

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for entry_point in entry_points(group=self.entry_point_group):
            try:
                obj = entry_point.load()
            except Exception as error:  # one broken plug-in must not break every command: it fails when named
                self._broken[entry_point.name] = f"{entry_point.value}: {describe_error(error)}"
                continue
            if entry_point.name not in self._entries:
                self._entries[entry_point.name] = obj


def _import_file(path: Path) -> None:
    """Import a plug-in file as the module named by its stem (once: a second import would register twice)."""
    if not path.is_file():
        raise PluginError(f"plug-in file {path} does not exist; give a .py file or a module name")
    name = path.stem
    loaded = sys.modules.get(name)
    if loaded is not None:
        if Path(getattr(loaded, "__file__", "") or "").resolve() == path.resolve():
            return
        raise PluginError(f"plug-in file {path}: a module named {name!r} is already imported; rename the file")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None  # a .py file always has a source loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
