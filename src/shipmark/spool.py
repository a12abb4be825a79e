"""A local spool for events that could not be delivered because of a transient failure.

JSON lines, one entry per (target, request). Writers take an exclusive lock and
replace the whole file atomically (write a temp file, fsync, rename), so a process
killed mid-write leaves the old or the new spool, never half a line. Entries hold
the request (event and options), never a token: the token is read from the
config again when the entry is resent.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional

SPOOL_NAME = "shipmark-spool.jsonl"


def spool_path(configured: Optional[str], env: Mapping[str, str]) -> Path:
    """$SHIPMARK_SPOOL, else the config's `spool:`, else RUNNER_TEMP (GitHub), else the user cache."""
    for value in (env.get("SHIPMARK_SPOOL"), configured):
        if value:
            return Path(os.path.expanduser(value))
    if env.get("RUNNER_TEMP"):
        return Path(env["RUNNER_TEMP"]) / SPOOL_NAME
    cache = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "shipmark" / SPOOL_NAME


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(path.name + ".lock")
    with open(lock_path, "a+") as lock:
        try:
            import fcntl

            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - Windows: best effort without a lock
            pass
        yield


def _read(path: Path) -> List[Dict[str, Any]]:
    if not path.exists():
        return []
    entries = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue  # a damaged line must not block the rest
    return entries


def _write(path: Path, entries: List[Dict[str, Any]]) -> None:
    if not entries:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for entry in entries:
                fh.write(json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def entry_id(entry: Mapping[str, Any]) -> str:
    return f"{entry.get('target')}:{entry.get('request', {}).get('operation')}:{entry.get('event_key')}"


def add(path: Path, target: str, request: Dict[str, Any], event_key: Optional[str], error: str) -> None:
    """Add (or refresh) one entry; the same target+operation+event_key is kept once."""
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    new = {"target": target, "event_key": event_key, "request": request, "error": error,
           "spooled_at": now, "attempts": 1}
    with _locked(path):
        entries = _read(path)
        for entry in entries:
            if entry_id(entry) == entry_id(new):
                entry.update(error=error, attempts=int(entry.get("attempts", 1)) + 1)
                break
        else:
            entries.append(new)
        _write(path, entries)


def load(path: Path) -> List[Dict[str, Any]]:
    with _locked(path):
        return _read(path)


def remove(path: Path, done_ids: List[str]) -> None:
    """Drop delivered entries, keeping anything another process added meanwhile."""
    if not done_ids:
        return
    done = set(done_ids)
    with _locked(path):
        _write(path, [e for e in _read(path) if entry_id(e) not in done])


def has_entries(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False
