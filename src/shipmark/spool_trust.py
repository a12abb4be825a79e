"""Why a spooled entry may be resent: it is signed by the token holder, in a place only we can write.

Every shipmark command resends what earlier runs spooled, with the token it has now.
The spool's path is predictable, so anything else running as the same OS user (another
job on a shared build agent) could plant an entry there, say a ``release cancel``, and
have our token sent along with it. Two checks close that:

- Each entry carries an HMAC-SHA256 (``sig``) over what it asks to send, keyed by a key
  derived from every secret value of its target (``TargetConfig.secrets()``). Only a
  process that holds those secrets can write an entry that verifies; one that does not
  is never sent (see shipmark.delivery.flushing: it is quarantined). A target without
  any secret has nothing to steal: its entries are not signed.
- The spool file and its directory must belong to us (or root) and must not be writable
  by group or others; otherwise nothing is read from or written to it.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Set

# Part of the key derivation: a key made for the spool is useless for anything else.
_KEY_LABEL = b"shipmark spool entry signing key, format 3"
# What the signature covers: what the entry asks to send and when it was first spooled
# (so the expiry age cannot be reset), not the bookkeeping that changes on every retry.
SIGNED_FIELDS = ("v", "target", "type", "event_key", "request", "spooled_at")


class UntrustedSpool(OSError):
    """The spool file or directory could be written by someone else: it is not used at all."""


def signing_key(secret_values: Iterable[Optional[str]]) -> Optional[bytes]:
    """The key for one target's entries, from all its secret values; None when it has none."""
    values = [v for v in secret_values if v]
    if not values:
        return None
    material = b"".join(len(raw).to_bytes(4, "big") + raw for raw in (v.encode("utf-8") for v in values))
    return hmac.new(_KEY_LABEL, material, hashlib.sha256).digest()


def key_for(config: Any) -> Optional[bytes]:
    """The signing key of a target config (duck-typed: anything with ``secrets()``)."""
    return signing_key(secret for secret, _username in config.secrets())


def signature(entry: Mapping[str, Any], key: bytes) -> str:
    signed = {name: entry.get(name) for name in SIGNED_FIELDS}
    text = json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hmac.new(key, text.encode("ascii"), hashlib.sha256).hexdigest()


def sign(entry: dict, key: Optional[bytes]) -> dict:
    entry["sig"] = signature(entry, key) if key is not None else None
    return entry


def why_untrusted(entry: Mapping[str, Any], key: Optional[bytes]) -> Optional[str]:
    """None when the entry may be resent with this key; else why not, in a few words."""
    if key is None:
        return None  # no secret to misuse: unsigned entries are accepted
    sig = entry.get("sig")
    if "v" not in entry:
        return "it is unsigned (written by shipmark 0.1.0)"
    if not isinstance(sig, str) or not sig:
        return "it is unsigned"
    if not hmac.compare_digest(sig, signature(entry, key)):
        return "its signature does not match the target's current secrets"
    return None


# -- the place ----------------------------------------------------------------------

_reported: Set[str] = set()


def check_place(path: Path) -> None:
    """Raise UntrustedSpool unless the spool file and its directory are ours alone to write."""
    if not hasattr(os, "getuid"):  # pragma: no cover - Windows: no POSIX owners or modes
        return
    trusted_owners = {os.getuid(), 0}
    for what, where in (("directory", path.parent), ("file", path)):
        try:
            info = os.stat(where)
        except FileNotFoundError:
            continue
        if info.st_uid not in trusted_owners:
            raise UntrustedSpool(f"the spool {what} {where} belongs to another user (uid {info.st_uid})")
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            who = " and ".join(w for w, bit in (("group", stat.S_IWGRP), ("others", stat.S_IWOTH))
                               if info.st_mode & bit)
            raise UntrustedSpool(f"the spool {what} {where} is writable by {who}")


def refusal(path: Path, exc: UntrustedSpool) -> Optional[str]:
    """The one warning for a refused spool, the first time this process meets it (else None)."""
    if str(path) in _reported:
        return None
    _reported.add(str(path))
    return (f"spool: not using {path}: {exc}, so another account could plant events to be sent with "
            f"your token; nothing is read from or written to it (today's events are still sent, but "
            f"one that fails now is not kept). Fix: `chmod go-w` it, or set SHIPMARK_SPOOL to a file "
            f"in a directory only you can write")
