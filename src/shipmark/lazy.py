"""Package attributes loaded on first use, so importing a package costs only what is used."""
from __future__ import annotations

import importlib
from typing import Any, Callable, Dict, MutableMapping


def lazy_attributes(package: str, homes: Dict[str, str], namespace: MutableMapping[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__``: each name in ``homes`` comes from the module named there.

    A home without a dot is a submodule of ``package``. A value, once loaded, is stored
    in the package's namespace, so later look-ups do not come back here.
    """
    def load(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(home if "." in home else f"{package}.{home}")
        namespace[name] = value = getattr(module, name)
        return value

    return load
