"""Small readers every backend needs for what a service sends back: ids, times, JSON shapes."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Dict, List, Optional, Sequence

from shipmark.errors import ApiError
from shipmark.models import parse_iso8601, utc_iso

# DeployBot's and Beanstalk's timestamps: "2013/01/17 05:04:08 +0800".
TIME_FORMAT = "%Y/%m/%d %H:%M:%S %z"


def as_id(value: Any) -> Optional[str]:
    """Ids come as ints, sometimes as strings ("1"): shipmark carries them as strings."""
    if value is None or value == "":
        return None
    return str(value)


def iso_time(value: Any, fmt: Optional[str] = TIME_FORMAT) -> Optional[str]:
    """A service's timestamp as ISO 8601 UTC; text that does not read as one is kept as given.

    fmt: the service's strptime format (shown to the second); None for ISO 8601 input in
    any of its forms (shown to the millisecond).
    """
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    if fmt is None:
        parsed = parse_iso8601(text)
        return utc_iso(parsed) if parsed is not None else text
    try:
        return utc_iso(datetime.strptime(text, fmt), ms=False)
    except ValueError:
        return value if isinstance(value, str) else text


def expect_object(data: Any, where: str, *, wrapped_in: Optional[str] = None,
                  status_code: Optional[int] = None) -> Dict[str, Any]:
    """A JSON object (``{"<wrapped_in>": {...}}`` unwrapped when the service wraps it)."""
    if isinstance(data, dict) and wrapped_in and isinstance(data.get(wrapped_in), dict):
        return data[wrapped_in]
    if isinstance(data, dict):
        return data
    raise unexpected(data, where, "a JSON object", status_code)


def expect_list(data: Any, where: str, what: str = "a JSON array", *, envelopes: Sequence[str] = (),
                one_object: bool = False, empty: bool = True, status_code: Optional[int] = None
                ) -> List[Dict[str, Any]]:
    """The objects of a JSON array.

    envelopes: keys tolerated around the array ({"data": [...]}); one_object: a single
    object counts as an array of one; empty: an empty body counts as an empty array.
    Anything else is an ApiError naming what was expected and what came.
    """
    if isinstance(data, dict):
        data = next((data[key] for key in envelopes if isinstance(data.get(key), list)),
                    [data] if one_object else data)
    if data is None and empty:
        return []
    if not isinstance(data, list):
        raise unexpected(data, where, what, status_code)
    return [item for item in data if isinstance(item, dict)]


def unexpected(data: Any, where: str, expected: str, status_code: Optional[int] = None) -> ApiError:
    """The one error for a response of the wrong shape."""
    from shipmark.redact import redact

    got = "an empty body" if data is None else f"{type(data).__name__}: {json.dumps(data)[:200]}"
    return ApiError(f"unexpected response from {redact(where)}: expected {expected}, got {got}",
                    status_code=status_code)
