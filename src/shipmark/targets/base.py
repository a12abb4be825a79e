"""What every backend shares: its config model, the request it is given, the base class.

A backend is a small class with a ``type`` name, a pydantic ``config_model`` and
one method per operation it supports (names in shipmark.operations). It never reads the
environment: it gets a Request (carrying the Event) and its config, and talks
HTTP through ``self.http`` (a shipmark.http.HttpClient).

--dry-run is handled once, for every backend: each operation method is wrapped
(``__init_subclass__``) as shipmark.targets.dryrun describes.

Importing this module must stay cheap: no requests/urllib3 here.
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import ipaddress
import random
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Dict, List, Mapping, Optional, Tuple, Type
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from shipmark.errors import ApiError, UnsupportedError
from shipmark.models import Event, Result, Status, json_ready
from shipmark.operations import OPERATIONS, words
from shipmark.targets.dryrun import ShowsDryRun, reports_dry_run
from shipmark.targets.items import ListItem
from shipmark.targets.params import Param, read_params
from shipmark.targets.status import StatusMap

if TYPE_CHECKING:  # pragma: no cover
    from shipmark.http import HttpClient

def is_loopback(host: Optional[str]) -> bool:
    if not host:
        return False
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class TargetConfig(BaseModel):
    """Keys every target takes. Subclasses add their own; unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # Subclasses set these.
    default_url: ClassVar[Optional[str]] = None
    url_required: ClassVar[bool] = True
    # The one token rule: a type that needs a token says so here, and a missing, empty or
    # all-blank token is then the same error for every such type, ending in ``token_hint``
    # (what the token is and where to get one).
    token_required: ClassVar[bool] = False
    token_hint: ClassVar[str] = ""

    type: str
    name: str
    url: Optional[str] = None
    # validate_default: a missing token is checked too (and reported with the other keys).
    token: Optional[SecretStr] = Field(default=None, validate_default=True)
    required: bool = False
    allow_insecure: bool = False
    timeout: Optional[float] = Field(default=None, gt=0)

    @field_validator("token")
    @classmethod
    def _check_token(cls, value: Optional[SecretStr]) -> Optional[SecretStr]:
        if not cls.token_required:
            return value
        fix = f": set it to {cls.token_hint}" if cls.token_hint else ""
        if value is None:
            raise ValueError(f"required key is missing{fix}")
        if not value.get_secret_value().strip():
            raise ValueError(f"is empty{fix}")
        return value

    @model_validator(mode="after")
    def _check_url(self) -> "TargetConfig":
        if self.url is None:
            self.url = self.default_url
        if self.url is None:
            if self.url_required:
                raise ValueError("url: required for this target type")
            return self
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"url: not an http(s) URL: {self.url!r}")
        if parts.username or parts.password:
            raise ValueError("url: must not contain credentials (user:password@); use the token key")
        if parts.scheme == "http" and not (is_loopback(parts.hostname) or self.allow_insecure):
            raise ValueError(
                "url: must be https (plain http is allowed only for loopback hosts or with allow_insecure: true)"
            )
        return self

    def secrets(self) -> List[Tuple[str, Optional[str]]]:
        """(secret, basic-auth username or None) pairs to register for redaction."""
        if self.token is None:
            return []
        return [(self.token.get_secret_value(), None)]

    def token_value(self) -> Optional[str]:
        return self.token.get_secret_value() if self.token is not None else None

    def bearer(self) -> Dict[str, str]:
        """The `Authorization: Bearer <token>` header, or none without a token."""
        return {"Authorization": f"Bearer {self.token_value()}"} if self.token is not None else {}

    def public_view(self) -> Dict[str, Any]:
        """The config for `shipmark targets`: secrets shown as ***."""
        data = self.model_dump(mode="json")
        for key, value in list(data.items()):
            if isinstance(getattr(self, key, None), SecretStr):
                data[key] = "***" if value is not None else None
        return data


@dataclass
class Request:
    """One operation for one target (and one host): the event plus command options."""

    operation: str
    event: Event
    command: Optional[str] = None  # the CLI command, e.g. "deployment finish" (several map to "deploy")
    build: Optional[str] = None  # --build
    reason: Optional[str] = None  # release cancel --reason
    id: Optional[str] = None  # --id: the remote record to get / retry / update
    limit: int = 100  # list: 0 = all
    params: Dict[str, str] = field(default_factory=dict)  # --param KEY=VALUE (service specific)
    # Values of options a backend declares for itself (e.g. BuildMaster's --template),
    # by option name; the spool stores them as they are, so a new one needs no format change.
    options: Dict[str, Any] = field(default_factory=dict)
    # True when the environment came from -e, SHIPMARK_ENVIRONMENT or the CI job, not from
    # the config's defaults: a target's own environment_id then yields to it.
    environment_explicit: bool = False
    dry_run: bool = False

    def __post_init__(self) -> None:
        if self.limit < 0:
            raise ValueError("limit must be >= 0")

    def to_json_dict(self) -> Dict[str, Any]:
        """What the spool stores; read back with from_json_dict."""
        return json_ready(dataclasses.asdict(self))

    def record(self) -> Dict[str, Any]:
        """The event as a sink that keeps whole events records it (file line, webhook body):
        its JSON fields, the operation, and under ``options`` every option and --param given."""
        record: Dict[str, Any] = {**self.event.to_json_dict(), "operation": self.operation}
        given = {k: v for k, v in (("build", self.build), ("reason", self.reason), ("id", self.id),
                                   *self.options.items()) if v}
        if given or self.params:
            record["options"] = {**given, **self.params}
        return record

    @classmethod
    def from_json_dict(cls, data: Any) -> "Request":
        """A spooled request, validated (the file may be old, edited or cut off)."""
        if isinstance(data, dict) and any(key in data for key in _OPTIONS_BEFORE_0_2):
            # Written by 0.1.0, when BuildMaster's options were fields of their own.
            data = dict(data)
            moved = {key: data.pop(key) for key in _OPTIONS_BEFORE_0_2 if key in data}
            data["options"] = {**{k: v for k, v in moved.items() if v}, **(data.get("options") or {})}
        return _request_adapter().validate_python(data)


_OPTIONS_BEFORE_0_2 = ("template", "pipeline", "force")


@functools.lru_cache(maxsize=None)
def _request_adapter() -> Any:
    """Built once (a few ms): a flush may read back many spooled requests."""
    from pydantic import TypeAdapter

    return TypeAdapter(Request)


def segment(value: Any) -> str:
    """Percent-encode one URL path segment ('/' included)."""
    return quote(str(value), safe="")


class Target(ShowsDryRun):
    """Base class of every backend."""

    type: ClassVar[str] = ""
    config_model: ClassVar[Type[TargetConfig]] = TargetConfig
    # Normalized status -> the service's word; None = not representable. A StatusMap
    # (shipmark.targets.status) also names the other words the service sends back.
    status_map: ClassVar[Mapping[Status, Optional[str]]] = {}
    # Does the service let us find a record by event_key (re-runs and retries are no-ops)?
    supports_lookup: ClassVar[bool] = False
    # Does `deploy` make the service run a deployment (rather than record one run elsewhere)?
    # Then `deployment start|finish`, which report a deployment CI runs, do not apply.
    triggers_deployments: ClassVar[bool] = False
    # The --param KEYs it takes (see shipmark.targets.params); any other KEY is a usage error.
    params: ClassVar[Tuple[Param, ...]] = ()
    param_note: ClassVar[str] = ""  # added to the unknown-param error, e.g. where the fields come from

    def __init__(self, config: TargetConfig, http: "HttpClient"):
        self.config = config
        self.http = http
        self._once: Dict[str, Tuple[bool, Any]] = {}
        self._once_lock = threading.Lock()
        # Dry run: per request being run (by id), one entry (its note or None) per read stood in for.
        self._stood_in: Dict[int, List[Optional[str]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in OPERATIONS:
            method = cls.__dict__.get(name)
            if callable(method) and not hasattr(method, "__wrapped__"):
                setattr(cls, name, reports_dry_run(method))

    def once(self, key: str, fetch: Callable[[], Any]) -> Any:
        """fetch() at most once per run of this target, its answer (or error) shared by every thread.

        For reads that do not depend on the host: 20 hosts deploying to one target
        need one list of what earlier runs recorded, not 20.
        """
        with self._once_lock:
            if key not in self._once:
                try:
                    self._once[key] = (True, fetch())
                except Exception as exc:  # shared too: the other threads must not each wait it out again
                    self._once[key] = (False, exc)
            ok, value = self._once[key]
        if not ok:
            raise copy.copy(value)  # each thread its own instance: callers annotate the errors they catch
        return value

    # -- capability queries -------------------------------------------------
    @classmethod
    def supports(cls, operation: str) -> bool:
        return callable(getattr(cls, operation, None))

    @classmethod
    def supported_operations(cls) -> List[str]:
        return [op for op in OPERATIONS if cls.supports(op)]

    @property
    def name(self) -> str:
        return self.config.name

    def check(self, request: Request) -> None:
        """Raise UnsupportedError before anything is sent when the request cannot be expressed.

        The default checks the operation exists, that start/finish reports make sense and
        that every --param is one the backend declares, with a valid value;
        backends add their own checks, e.g. that the status maps (``service_status``).
        """
        if not self.supports(request.operation):
            raise UnsupportedError(
                f"{words(request.operation)} is not supported by {self.type}"
            )
        if self.triggers_deployments and request.command in ("deployment start", "deployment finish"):
            raise UnsupportedError(
                f"{self.type} runs deployments itself, so `{request.command}` cannot report one: "
                "use `shipmark deploy` to trigger it (and --wait to follow it)"
            )
        self.param_values(request)

    def param_values(self, request: Request) -> Dict[str, Any]:
        """The request's --param values, checked against ``params`` and converted (UsageError if wrong)."""
        return read_params(self.type, request.operation, request.params, self.params, self.param_note)

    def service_status(self, status: Status) -> str:
        """The service's word for a normalized status, or UnsupportedError."""
        word = self.status_map.get(status)
        if word is None:
            raise UnsupportedError(f"status {status.value!r} cannot be represented by {self.type}")
        return word

    def read_status(self, word: Any) -> Optional[Status]:
        """The normalized status a service's word stands for (None when unknown)."""
        return StatusMap.of(self.status_map).status(word)

    def shown_status(self, word: Any) -> Optional[str]:
        """A service's word as lists and results show it: the normalized value when known."""
        return StatusMap.of(self.status_map).shown(word)

    def result(self, request: Request, **fields: Any) -> Result:
        """A Result pre-filled with this target's identity and the request's event key."""
        if fields.get("items"):  # list rows as --json prints them
            fields["items"] = [i.to_dict() if isinstance(i, ListItem) else i for i in fields["items"]]
        fields.setdefault("event_key", request.event.event_key)
        fields.setdefault("host", request.event.host)
        return Result(target=self.name, type=self.type, operation=request.operation, **fields)

    @classmethod
    def http_options(cls, config: TargetConfig) -> Dict[str, Any]:
        """How to talk to the service: keyword arguments for shipmark.http.HttpClient.

        Keys: base_url (required), headers, basic_auth, error_parser, retry_methods, throttled.
        Override to add auth; never put a secret in the URL.
        """
        return {"base_url": config.url or ""}

    # -- optional hooks ----------------------------------------------------
    def poll(self, result: Result) -> Tuple[Optional[Status], str]:
        """For --wait: (normalized status or None if unknown, the service's own word)."""
        raise UnsupportedError(f"--wait is not supported by {self.type}")

    def probe(self) -> str:
        """For `check --online`: one cheap authenticated read; returns a short description."""
        raise UnsupportedError(f"an online check is not supported by {self.type}")

    # -- idempotent create --------------------------------------------------
    def create_once(
        self,
        request: Request,
        send: Callable[[], Result],
        lookup: Optional[Callable[[], Optional[Result]]] = None,
        lookup_before: Optional[Callable[[], Optional[Result]]] = None,
    ) -> Result:
        """Send a create, making re-runs and retries safe where the service allows a lookup.

        ``lookup`` finds a record carrying request.event.event_key (None if absent).
        Before the first send it turns a re-run (or a resend from the spool) into
        "already recorded"; ``lookup_before``, when given, does that first check instead
        (e.g. against a list fetched once for every host, see ``once``), while checks
        after a send that may have landed always use a fresh ``lookup``. The HTTP layer
        has already retried what is always safe (connection refused, 429). When a send
        fails in a way that may have reached the server (5xx, read timeout, reset after
        sending), the lookup decides whether to send again, after a backoff that
        honours Retry-After, inside the time budget; without a lookup the send is not
        repeated and the error says so.
        Every ApiError raised here carries ``lookup_available``, which tells the spool
        whether a later resend can be checked the same way. When the spool resends an
        event that may already be recorded, the job's HTTP client carries that resend
        (``self.http.resend``, see shipmark.http.resend): a create without a lookup is
        refused rather than risk a duplicate, and an empty lookup lets the send through.
        """
        if request.dry_run:
            return send()
        resend = self.http.resend
        try:
            if lookup is not None:
                found = (lookup_before or lookup)()
                if found is not None:
                    found.message = found.message or "already recorded"
                    return found
                if resend is not None:
                    resend.checked()  # a resend of an uncertain spooled event is safe now
            elif resend is not None and resend.unchecked:
                raise resend.refusal(self.type)
            sends = 0
            while True:
                sends += 1
                try:
                    return send()
                except ApiError as exc:
                    if not exc.transient or not exc.may_have_landed:
                        raise  # permanent, or already retried as far as is safe by the HTTP layer
                    if lookup is None:
                        exc.message += (" (not re-sent: it may have been recorded and "
                                        f"{self.type} offers no way to check)")
                        raise
                    delay = exc.retry_after if exc.retry_after is not None else \
                        min(8.0, 0.5 * (2 ** (sends - 1))) * (0.5 + random.random() / 2)
                    # Room for the sleep, a lookup and another send.
                    if sends >= _MAX_CREATE_SENDS or self.http.budget.remaining() <= delay + 1.0:
                        exc.message += " (it may have been recorded: the next attempt checks by event key first)"
                        raise
                    time.sleep(delay)
                    try:
                        found = lookup()
                    except ApiError as lookup_exc:
                        exc.message += (f" (could not check whether it was recorded: {lookup_exc.message}; "
                                        "the next attempt checks first)")
                        raise exc from None
                    if found is not None:
                        found.message = "recorded (confirmed after a retry)"
                        return found
        except ApiError as exc:
            exc.lookup_available = lookup is not None
            raise


# A create that may have landed is re-sent (after a lookup) at most this often in one command.
_MAX_CREATE_SENDS = 4
