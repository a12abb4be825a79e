"""Backend registry: type name -> module, imported only when a config (or a backend's option) needs it.

Adding a backend is one module plus one line in TARGET_TYPES (or a call to ``register``).
A backend may declare command-line options of its own (``cli_options``, a tuple of
CliOption on its class); the CLI adds them to the commands they name.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple, Type

from shipmark.errors import ConfigError

# type name -> "module:Class". Modules are imported lazily to keep start-up fast.
TARGET_TYPES: Dict[str, str] = {
    "releasebits": "shipmark.targets.releasebits:ReleaseBits",
    "deploybot": "shipmark.targets.deploybot:DeployBot",
    "buildmaster": "shipmark.targets.buildmaster:BuildMaster",
    "beanstalk": "shipmark.targets.beanstalk:Beanstalk",
    "aviator": "shipmark.targets.aviator:Aviator",
    "github": "shipmark.targets.github:GitHub",
    "file": "shipmark.targets.file:FileTarget",
}


def known_types() -> List[str]:
    return sorted(TARGET_TYPES)


def target_class(type_name: str) -> "Type":
    spec = TARGET_TYPES.get(type_name)
    if spec is None:
        raise ConfigError(f"unknown target type {type_name!r} (known: {', '.join(known_types())})")
    module_name, _, class_name = spec.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, class_name)


def register(type_name: str, spec: str) -> None:
    """Add a backend: its type name (the config's `type:`) and "module:Class"."""
    if TARGET_TYPES.get(type_name, spec) != spec:
        raise ValueError(f"target type {type_name!r} is already registered as {TARGET_TYPES[type_name]}")
    TARGET_TYPES[type_name] = spec


@dataclass(frozen=True)
class CliOption:
    """A command-line option a backend declares for some commands, e.g. BuildMaster's --template.

    ``commands`` are the CLI's words for them ("release create", "deploy"). A value given
    on the command line travels in Request.options under ``name`` (the spool stores that
    mapping as it is), or, with ``field``, in that Request field, which every backend
    shares (e.g. "build"). Options that were not given are not sent at all.
    """

    flag: str  # "--template"
    commands: Tuple[str, ...]
    help: str
    metavar: Optional[str] = None
    is_flag: bool = False
    field: Optional[str] = None

    @property
    def name(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


def cli_options(command: str) -> List[CliOption]:
    """The options backends declare for one command, in registry order (the first declaration of a flag wins).

    Imports every registered backend: the CLI asks only for help or for an option it
    does not know itself.
    """
    found: Dict[str, CliOption] = {}
    for type_name in list(TARGET_TYPES):
        for option in getattr(target_class(type_name), "cli_options", ()):
            if command in option.commands:
                found.setdefault(option.flag, option)
    return list(found.values())
