"""Lazy public namespaces: a package lists its public names and loads each module on first use (as librosa
does), so that ``import dyadsync.<package>`` stays fast and heavy dependencies load only when used."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def attach(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for a package whose public names live in its modules.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : mapping of str to str
        Public name -> the module (relative to the package, e.g. ``".wcc"``) that defines it; a module exported
        as itself maps its own name to itself (``{"figures": ".figures"}``).
    """

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(exports[name], package)
        value = module if module.__name__.rsplit(".", 1)[-1] == name and not hasattr(module, name) else getattr(
            module, name)
        globals_of(package)[name] = value  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__, sorted(exports)


def globals_of(package: str) -> dict[str, Any]:
    """The namespace of an imported package."""
    import sys

    return vars(sys.modules[package])
