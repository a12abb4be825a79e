"""The `webhook` target: POST each event, as shipmark JSON or as a CDEvent, optionally signed.

Every request carries ``X-Shipmark-Event-Key``; with a ``secret`` also
``X-Shipmark-Timestamp`` (unix seconds) and ``X-Shipmark-Signature: sha256=<hex>``, the
HMAC-SHA256 (keyed by the secret) of ``<timestamp>.`` followed by the raw body. The body
is serialized once and those exact bytes are signed and sent.

A receiver has nothing shipmark could look an event up in, so there is no lookup: a
re-run, a retry and a resend from the spool POST the same event (same key) again,
and receivers dedupe by the event key (the CloudEvent id in the cdevents format). That is why POST is declared safe to repeat here (``retry_methods``): a 5xx or a cut-off
answer is retried, and a spooled event is resent, instead of being given up as "may
have been recorded".
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from typing import Any, Dict, List, Literal, Optional, Tuple

from pydantic import Field, SecretStr, field_validator, model_validator

from shipmark.models import Result, Status
from shipmark.operations import WRITE_OPERATIONS
from shipmark.targets import cdevents
from shipmark.targets.base import Request, Target, TargetConfig
from shipmark.targets.params import Param
from shipmark.targets.status import StatusMap

EVENT_KEY_HEADER = "X-Shipmark-Event-Key"
TIMESTAMP_HEADER = "X-Shipmark-Timestamp"
SIGNATURE_HEADER = "X-Shipmark-Signature"
CONTENT_TYPES = {"shipmark": "application/json", "cdevents": "application/cloudevents+json"}
# Shorter secrets are guessable, and could not be masked reliably in output either.
MIN_SECRET_LENGTH = 8
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
# Headers shipmark sets itself (or the HTTP layer does): a config cannot replace them.
RESERVED_HEADERS = ("content-type", "content-length", "host", "transfer-encoding", "x-shipmark-")
WRITES = tuple(sorted(WRITE_OPERATIONS))

# format: shipmark records any --param as given; format: cdevents takes only cdevents_type.
ANY_PARAM = Param("any KEY=VALUE", WRITES, prefix="")
CDEVENTS_PARAMS = (Param("cdevents_type", cdevents.DEPLOY_OPERATIONS, choices=cdevents.SERVICE_CHANGES,
                         hint="the CDEvents service event for a successful deployment"),)


class WebhookConfig(TargetConfig):
    format: Literal["shipmark", "cdevents"] = "shipmark"
    secret: Optional[SecretStr] = None  # signs every request when set
    headers: Dict[str, SecretStr] = Field(default_factory=dict)  # sent as given; values masked in output

    @field_validator("secret")
    @classmethod
    def _check_secret(cls, value: Optional[SecretStr]) -> Optional[SecretStr]:
        if value is not None and len(value.get_secret_value().strip()) < MIN_SECRET_LENGTH:
            raise ValueError(f"must be at least {MIN_SECRET_LENGTH} characters (e.g. secret: ${{WEBHOOK_SECRET}}); "
                             "leave the key out to send unsigned requests")
        return value

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, value: Dict[str, SecretStr]) -> Dict[str, SecretStr]:
        for name, secret in value.items():
            if not HEADER_NAME.match(name):
                raise ValueError(f"{name!r} is not a valid HTTP header name")
            if name.lower().startswith(RESERVED_HEADERS):
                raise ValueError(f"{name!r} is set by shipmark itself and cannot be configured")
            text = secret.get_secret_value()
            if not text.strip() or "\r" in text or "\n" in text:
                raise ValueError(f"{name}: the value must be one non-empty line")
        return value

    @model_validator(mode="after")
    def _one_authorization(self) -> "WebhookConfig":
        if self.token is not None and any(n.lower() == "authorization" for n in self.headers):
            raise ValueError("headers: Authorization is set from the token key; give one or the other")
        return self

    def secrets(self) -> List[Tuple[str, Optional[str]]]:
        found = super().secrets()
        if self.secret is not None:
            found.append((self.secret.get_secret_value(), None))
        # Header values often carry credentials (from ${VAR}): every one is masked.
        found.extend((value.get_secret_value(), None) for value in self.headers.values())
        return found

    def public_view(self) -> Dict[str, Any]:
        data = super().public_view()
        data["headers"] = {name: "***" for name in self.headers}
        return data


class Webhook(Target):
    type = "webhook"
    config_model = WebhookConfig
    status_map = StatusMap({status: status.value for status in Status})
    supports_lookup = False  # a receiver offers no lookup; it dedupes by the event key instead
    params = (ANY_PARAM,) + CDEVENTS_PARAMS
    param_note = "format: cdevents takes only cdevents_type; format: shipmark passes any KEY on as given"

    config: WebhookConfig

    def __init__(self, config: TargetConfig, http: Any):
        super().__init__(config, http)
        assert isinstance(config, WebhookConfig)
        # The params this target takes depend on its format (the class lists both kinds).
        self.params = CDEVENTS_PARAMS if config.format == "cdevents" else (ANY_PARAM,)

    @classmethod
    def http_options(cls, config: TargetConfig) -> Dict[str, Any]:
        assert isinstance(config, WebhookConfig)
        headers = {name: value.get_secret_value() for name, value in config.headers.items()}
        headers.update(config.bearer())
        # Receivers dedupe by X-Shipmark-Event-Key, so a POST that may have landed is sent again.
        return {"base_url": config.url or "", "headers": headers, "retry_methods": ["POST"]}

    def check(self, request: Request) -> None:
        super().check(request)
        self.payload(request)  # an event CDEvents cannot express is refused before anything is sent

    def payload(self, request: Request) -> Dict[str, Any]:
        """The JSON object to send for one request, in the configured format."""
        if self.config.format == "cdevents":
            return cdevents.cloud_event(request.event, request.operation, build=request.build,
                                        change=self.param_values(request).get("cdevents_type"),
                                        fallback_name=self.name)
        return {**request.record(), "command": request.command}

    def _post(self, request: Request) -> Result:
        # Serialized once: the signature covers exactly the bytes sent.
        body = json.dumps(self.payload(request), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": CONTENT_TYPES[self.config.format],
                   EVENT_KEY_HEADER: str(request.event.event_key)}
        if self.config.secret is not None:
            headers.update(sign(self.config.secret.get_secret_value(), body))
        url = self.config.url or ""  # exactly as configured (a full URL: the client adds nothing)
        resp = self.http.request("POST", url, data=body, headers=headers)
        return self.result(request, id=request.event.event_key, url=url, status_code=resp.status_code)

    deploy = _post
    deployment_update = _post
    release_create = _post
    release_cancel = _post
    release_restore = _post
    build_create = _post
    build_deploy = _post
    build_reject = _post


def sign(secret: str, body: bytes, timestamp: Optional[int] = None) -> Dict[str, str]:
    """The timestamp and signature headers for one body."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode("utf-8"), stamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: f"sha256={digest}"}
