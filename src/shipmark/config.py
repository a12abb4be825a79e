"""shipmark.yml + SHIPMARK_* environment -> validated Settings, and the one precedence rule.

Precedence: flags > environment > config file > defaults, for every setting: load_settings
merges the SHIPMARK_TARGET_* variables over the file's targets, and Resolver applies the
rule to the command-wide settings (timeout, fail_on_error, concurrency, version,
environment). Every problem becomes a ConfigError with one readable line per problem
(file, target, key), never a traceback and never a secret's value.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shipmark import redact
from shipmark.errors import ConfigError
from shipmark.targets import known_types, target_class

CONFIG_NAMES = ("shipmark.yml", ".shipmark.yml")
ENV_TARGET_PREFIX = "SHIPMARK_TARGET_"
# Deliveries in flight at once: enough to hide network latency across a fan-out of
# targets x hosts, few enough not to trip a service's rate limit from one CI job.
DEFAULT_CONCURRENCY = 16
MAX_CONCURRENCY = 64
_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class Defaults(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    environment: Optional[str] = None
    version: Optional[str] = None
    timeout: Optional[float] = Field(default=None, gt=0)
    fail_on_error: bool = False
    # Deliveries in flight at once (SHIPMARK_CONCURRENCY overrides; default DEFAULT_CONCURRENCY).
    concurrency: Optional[int] = Field(default=None, ge=1, le=MAX_CONCURRENCY)


class FileModel(BaseModel):
    """Top level of shipmark.yml (targets are validated per type afterwards)."""

    model_config = ConfigDict(extra="forbid")

    defaults: Optional[Defaults] = None
    targets: Optional[Dict[str, Any]] = None
    spool: Optional[str] = None


@dataclass
class Settings:
    defaults: Defaults
    targets: Dict[str, Any]  # name -> TargetConfig subclass instance, in config order
    spool: Optional[str] = None
    path: Optional[Path] = None
    # Why no config was read although one may exist (e.g. not trusted in this build), else None.
    # With no target, a recording command in CI then warns and exits 0 instead of failing.
    discovery_suppressed: Optional[str] = None


def find_config(explicit: Optional[str], env: Mapping[str, str], cwd: Path) -> Optional[Path]:
    """--config, else $SHIPMARK_CONFIG, else shipmark.yml / .shipmark.yml in cwd."""
    for given, origin in ((explicit, "--config"), (env.get("SHIPMARK_CONFIG") or None, "SHIPMARK_CONFIG")):
        if given:
            path = Path(given).expanduser()
            if not path.is_absolute():
                path = cwd / path
            if not path.is_file():
                raise ConfigError(f"{origin}: config file not found: {given}")
            return path
    for name in CONFIG_NAMES:
        path = cwd / name
        if path.is_file():
            return path
    return None


def _read_yaml(path: Path) -> Dict[str, Any]:
    import yaml  # lazily: only when there is a file

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path.name}: cannot read: {exc.__class__.__name__}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path.name}:{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path.name}: the top level must be a mapping (defaults:, targets:)")
    return data


def expand_vars(value: Any, env: Mapping[str, str], where: str) -> Any:
    """Expand ${VAR} (and ${VAR:-default}) in every string; $$ is a literal $."""
    if isinstance(value, dict):
        return {k: expand_vars(v, env, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [expand_vars(v, env, f"{where}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def replace(match: "re.Match[str]") -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group(1), match.group(2)
        current = env.get(name)
        if current:
            return current
        if default is not None:
            return default
        state = "is empty" if current == "" else "is not set"
        raise ConfigError(f"{where}: environment variable {name} {state}")

    return _VAR.sub(replace, value)


def env_targets(env: Mapping[str, str], file_names: Sequence[str] = ()) -> Dict[str, Dict[str, str]]:
    """SHIPMARK_TARGET_<NAME>_<KEY>=value -> {name: {key: value}} (names lower-cased).

    A name is known from a SHIPMARK_TARGET_<NAME>_TYPE variable or from the config
    file, so names and keys may both contain underscores without ambiguity.
    """
    ours = {var.upper(): value for var, value in env.items()
            if var.upper().startswith(ENV_TARGET_PREFIX) and value != ""}
    names = {n.lower() for n in file_names}
    names.update(var[len(ENV_TARGET_PREFIX):-len("_TYPE")].lower()
                 for var in ours if var.endswith("_TYPE") and len(var) > len(ENV_TARGET_PREFIX) + 5)
    ordered = sorted(names, key=len, reverse=True)  # longest first: "my_rb" before "my"
    found: Dict[str, Dict[str, str]] = {}
    for var, value in sorted(ours.items()):
        rest = var[len(ENV_TARGET_PREFIX):]
        for name in ordered:
            prefix = name.upper() + "_"
            if rest.startswith(prefix) and len(rest) > len(prefix):
                found.setdefault(name, {})[rest[len(prefix):].lower()] = value
                break
        else:
            raise ConfigError(
                f"{var}: no target of that name; define it in the config file or set "
                f"{ENV_TARGET_PREFIX}<NAME>_TYPE (then {ENV_TARGET_PREFIX}<NAME>_<KEY> for its keys)"
            )
    return found


def _format_validation(exc: ValidationError, where: str, model: type) -> List[str]:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"] if p != "__root__")
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            valid = sorted(k for k in model.model_fields if k != "name")
            msg = f"unknown key (valid keys: {', '.join(valid)})"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        elif err["type"] == "missing":
            msg = "required key is missing"
        if not loc and ":" in msg:  # model validators name the key themselves
            loc, _, msg = msg.partition(": ")
        lines.append(f"{where}: key '{loc}': {msg}" if loc else f"{where}: {msg}")
    return lines


def load_settings(
    explicit_path: Optional[str] = None,
    env: Optional[Mapping[str, str]] = None,
    cwd: Optional[Path] = None,
) -> Settings:
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    path = find_config(explicit_path, env, cwd)
    label = path.name if path else "environment"
    data = _read_yaml(path) if path else {}

    try:
        top = FileModel.model_validate(data)
    except ValidationError as exc:
        raise ConfigError("\n".join(_format_validation(exc, label, FileModel))) from None

    raw_targets: Dict[str, Dict[str, Any]] = {}
    for name, body in (top.targets or {}).items():
        if not isinstance(body, dict):
            raise ConfigError(f"{label}: target '{name}': must be a mapping of keys")
        raw_targets[str(name)] = expand_vars(dict(body), env, f"{label}: target '{name}'")
    defaults_raw = expand_vars(data.get("defaults") or {}, env, f"{label}: defaults")
    try:
        defaults = Defaults.model_validate(defaults_raw)
    except ValidationError as exc:
        raise ConfigError("\n".join(_format_validation(exc, f"{label}: defaults", Defaults))) from None
    spool = expand_vars(top.spool, env, f"{label}: spool") if top.spool else None

    # Environment targets: names are case-insensitive, so match file targets that way.
    from_env = env_targets(env, list(raw_targets))
    by_lower = {name.lower(): name for name in raw_targets}
    for lower, keys in from_env.items():
        name = by_lower.get(lower, lower)
        raw_targets.setdefault(name, {}).update(keys)

    problems: List[str] = []
    targets: Dict[str, Any] = {}
    for name, body in raw_targets.items():
        where = f"{label}: target '{name}'"
        if name.lower() in from_env:
            where += " (with SHIPMARK_TARGET_* variables)"
        if body.get("token"):  # before validation, so no error can echo it
            redact.register(str(body["token"]))
        type_name = body.get("type")
        if not type_name:
            problems.append(f"{where}: key 'type' is missing (one of: {', '.join(known_types())})")
            continue
        try:
            cls = target_class(str(type_name))
        except ConfigError as exc:
            problems.append(f"{where}: {exc}")
            continue
        model = cls.config_model
        try:
            config = model.model_validate({**body, "name": name})
        except ValidationError as exc:
            problems.extend(_format_validation(exc, where, model))
            continue
        for secret, username in config.secrets():
            redact.register(secret, username=username)
        targets[name] = config
    if problems:
        raise ConfigError("\n".join(redact.redact(p) for p in problems))
    return Settings(defaults=defaults, targets=targets, spool=spool, path=path)


# -- the command-wide settings ---------------------------------------------------------

# Where a resolved value came from, strongest first.
FLAG, ENVIRONMENT, FILE, DEFAULT = "flag", "environment", "config file", "default"


@dataclass(frozen=True)
class Resolved:
    value: Any
    source: str  # FLAG, ENVIRONMENT, FILE or DEFAULT


class Resolver:
    """The settings a command reads, each by one rule: flags > environment > config file > defaults.

    ``flags`` are the command's options (None = not given), ``file`` the config's
    ``defaults:`` (None before or without a config). Each setting is resolved, and its
    variable checked, only when asked for: a command reports the problems of what it
    uses, in the order it uses them. A bad variable is a ConfigError naming it.
    """

    def __init__(self, flags: Mapping[str, Any], env: Mapping[str, str], file: Optional[Defaults] = None):
        self.flags = flags
        self.env = env
        self.file = file

    def _file(self, key: str) -> Any:
        return getattr(self.file, key, None) if self.file is not None else None

    def fail_on_error(self) -> Resolved:
        """--fail-on-error, SHIPMARK_FAIL_ON_ERROR (set and not "false"), defaults.fail_on_error."""
        from shipmark.output import is_set

        if self.flags.get("fail_on_error") is not None:
            return Resolved(bool(self.flags["fail_on_error"]), FLAG)
        # A variable can only switch it on: unset or "false" leaves the file's choice.
        if is_set(self.env.get("SHIPMARK_FAIL_ON_ERROR")):
            return Resolved(True, ENVIRONMENT)
        if self._file("fail_on_error"):
            return Resolved(True, FILE)
        return Resolved(False, DEFAULT)

    def timeout(self) -> Resolved:
        """--timeout, SHIPMARK_TIMEOUT, defaults.timeout; None = each target's own, else the built-in budget."""
        if self.flags.get("timeout"):
            return Resolved(float(self.flags["timeout"]), FLAG)
        from_env = self._seconds("SHIPMARK_TIMEOUT")
        if from_env is not None:
            return Resolved(from_env, ENVIRONMENT)
        if self._file("timeout"):
            return Resolved(self._file("timeout"), FILE)
        return Resolved(None, DEFAULT)

    def concurrency(self) -> Resolved:
        """SHIPMARK_CONCURRENCY, defaults.concurrency, DEFAULT_CONCURRENCY (there is no flag)."""
        raw = self.env.get("SHIPMARK_CONCURRENCY", "").strip()
        if raw:
            if not raw.isdigit() or not 1 <= int(raw) <= MAX_CONCURRENCY:
                raise ConfigError(f"SHIPMARK_CONCURRENCY={raw!r}: expected a whole number from 1 to {MAX_CONCURRENCY}")
            return Resolved(int(raw), ENVIRONMENT)
        if self._file("concurrency"):
            return Resolved(self._file("concurrency"), FILE)
        return Resolved(DEFAULT_CONCURRENCY, DEFAULT)

    def version(self) -> Resolved:
        """--version, SHIPMARK_VERSION, defaults.version; None lets the event take the tag or sha."""
        from shipmark.events import check_word

        if self.flags.get("version") is not None:
            return Resolved(check_word(self.flags["version"], "--version"), FLAG)
        if self.env.get("SHIPMARK_VERSION"):
            return Resolved(check_word(self.env["SHIPMARK_VERSION"], "SHIPMARK_VERSION"), ENVIRONMENT)
        if self._file("version"):
            return Resolved(self._file("version"), FILE)
        return Resolved(None, DEFAULT)

    def version_named(self) -> bool:
        """Did the command name a version itself (--version or SHIPMARK_VERSION, not the file)?"""
        return bool(self.flags.get("version") or self.env.get("SHIPMARK_VERSION"))

    def environment(self, detected: Optional[str]) -> Resolved:
        """-e, else ``detected`` (SHIPMARK_ENVIRONMENT or the CI job's, from the context), else defaults.environment."""
        if self.flags.get("environment"):
            return Resolved(self.flags["environment"], FLAG)
        if detected:
            return Resolved(detected, ENVIRONMENT)
        if self._file("environment"):
            return Resolved(self._file("environment"), FILE)
        return Resolved(None, DEFAULT)

    def _seconds(self, name: str) -> Optional[float]:
        raw = self.env.get(name)
        if not raw:
            return None
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r}: expected a number of seconds") from None
        if value <= 0:
            raise ConfigError(f"{name}={raw!r}: must be positive")
        return value
