"""Which config file a command reads, and why (kept light: `shipmark context` reports it too).

A file named by --config or SHIPMARK_CONFIG is always read. Otherwise shipmark.yml or
.shipmark.yml in the working directory is, except where the checkout may hold someone
else's files (shipmark.ci.trust): a config file is code, since it says where tokens go,
so a pull request from a fork must not be able to supply one.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, NamedTuple, Optional

from shipmark.errors import ConfigError

CONFIG_NAMES = ("shipmark.yml", ".shipmark.yml")
WORKING_DIRECTORY = "the working directory"


class ConfigSource(NamedTuple):
    path: Optional[Path]  # the file read, or None
    origin: Optional[str]  # "--config", "SHIPMARK_CONFIG" or WORKING_DIRECTORY
    suppressed: Optional[str] = None  # why the working directory was not searched
    ignored: Optional[Path] = None  # the file that search would have found

    def describe(self) -> str:
        """One line: the file read and how it was chosen, or why none was."""
        if self.path is not None:
            return f"config: {self.path} (from {self.origin})"
        if self.suppressed:
            skipped = f"{self.ignored.name} ignored" if self.ignored else "no config file searched for"
            return (f"config: {skipped}: the code being built comes from someone else ({self.suppressed}); "
                    f"only --config, SHIPMARK_CONFIG and SHIPMARK_TARGET_* variables count")
        return f"config: no {' or '.join(CONFIG_NAMES)} in {WORKING_DIRECTORY}; SHIPMARK_TARGET_* variables only"


def find_config(explicit: Optional[str], env: Mapping[str, str], cwd: Path) -> ConfigSource:
    """--config, else $SHIPMARK_CONFIG, else shipmark.yml / .shipmark.yml in cwd unless the code is foreign."""
    for given, origin in ((explicit, "--config"), (env.get("SHIPMARK_CONFIG") or None, "SHIPMARK_CONFIG")):
        if given:
            path = Path(given).expanduser()
            if not path.is_absolute():
                path = cwd / path
            if path.is_dir():
                raise ConfigError(f"{origin}: {given} is a directory; name the config file itself "
                                  f"(for example {Path(given) / CONFIG_NAMES[0]})")
            if not path.is_file():
                raise ConfigError(f"{origin}: config file not found: {given}")
            return ConfigSource(path, origin)
    found = next((cwd / name for name in CONFIG_NAMES if (cwd / name).is_file()), None)
    from shipmark.ci.trust import foreign_code

    reason = foreign_code(env)
    if reason:
        return ConfigSource(None, None, suppressed=reason, ignored=found)
    return ConfigSource(found, WORKING_DIRECTORY if found else None)
