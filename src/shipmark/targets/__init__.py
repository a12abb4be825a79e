"""Backend registry: type name -> module, imported only when a config uses it."""
from __future__ import annotations

import importlib
from typing import Dict, List, Type

from shipmark.errors import ConfigError

# type name -> "module:Class". Modules are imported lazily to keep start-up fast.
TARGET_TYPES: Dict[str, str] = {
    "releasebits": "shipmark.targets.releasebits:ReleaseBits",
    "deploybot": "shipmark.targets.deploybot:DeployBot",
    "buildmaster": "shipmark.targets.buildmaster:BuildMaster",
    "beanstalk": "shipmark.targets.beanstalk:Beanstalk",
    "aviator": "shipmark.targets.aviator:Aviator",
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
