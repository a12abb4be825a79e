"""A local spool (write-ahead journal) of events that are not known to be delivered.

JSON lines, one entry per (target, operation, event_key). The life of an entry:

1. ``journal``: before a write is sent, its entry is written with ``state:
   "pending"`` and an ``owner`` (pid, host, process start). A process killed
   mid-delivery therefore leaves its events behind: nothing is lost.
2. ``settle_all``: when the outcomes are known, a delivered (or permanently
   rejected) entry is removed; a transient failure becomes ``state: "failed"``
   with no owner, to be resent later.
3. ``claim``: ``shipmark flush`` (and the start of the next command) takes the
   entries no live process owns. An entry whose owner died, or whose failure
   may have reached the server, is marked ``may_have_landed``: the backend's
   event_key lookup decides whether it is resent (no duplicates).

Writers take an exclusive lock and replace the whole file atomically (temp file,
fsync, rename), so a process killed mid-write leaves the old or the new spool,
never half a line; a temp file left by a killed writer is removed by the next
writer. Entries hold the request (event and options), never a token: the token
is read from the config again when the entry is resent.

Format 3 (``"v"``) entries are signed (``"sig"``, see shipmark.spool_trust); format 2 and
0.1.0's (no ``"v"``) never were; a newer format is left alone (``readable``). Entries
expire ``EXPIRY_DAYS`` after they were spooled. ``_locked`` refuses a spool others could
write; entries that do not verify go to the quarantine file (``quarantine``), never sent.
"""
from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import socket
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Set, Tuple

# UntrustedSpool: raised by every access to a spool someone else could write (callers catch it here).
from shipmark.spool_trust import UntrustedSpool, check_place, sign  # noqa: F401

SPOOL_NAME = "shipmark-spool.jsonl"
# The entry format this version writes: 3 is signed; 2 had room for a signature but none;
# 0.1.0 wrote entries without a version (format 1).
FORMAT = 3
# An entry not delivered this long after it was spooled is dropped, with a note.
EXPIRY_DAYS = 7
PENDING, FAILED = "pending", "failed"
# An owner on another host cannot be checked; after this long it is presumed dead.
FOREIGN_OWNER_TTL = 3600.0
# A pid can be reused; an owner older than this is presumed dead even if the pid exists.
OWNER_TTL = 24 * 3600.0


def spool_path(configured: Optional[str], env: Mapping[str, str], cwd: Optional[str] = None) -> Path:
    """$SHIPMARK_SPOOL, else the config's `spool:`, else RUNNER_TEMP (GitHub), else the user cache.

    The user-cache default is one file per working directory
    (``~/.cache/shipmark/spool-<dir>-<hash>.jsonl``): a shared build machine runs
    many projects whose target names may collide, and an event must only be
    resent by a later run of the same project.
    """
    for value in (env.get("SHIPMARK_SPOOL"), configured):
        if value:
            return Path(os.path.expanduser(value))
    if env.get("RUNNER_TEMP"):
        return Path(env["RUNNER_TEMP"]) / SPOOL_NAME
    cache = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    try:
        where = os.path.realpath(cwd or os.getcwd())
    except OSError:
        where = "unknown"
    tag = hashlib.sha256(where.encode("utf-8", "surrogateescape")).hexdigest()[:10]
    base = "".join(c if c.isalnum() or c in "-_." else "_" for c in os.path.basename(where))[:40] or "root"
    return Path(cache) / "shipmark" / f"spool-{base}-{tag}.jsonl"


# -- owners -------------------------------------------------------------------

def _process_start(pid: int) -> Optional[str]:
    """The kernel's start time of ``pid`` (Linux), to tell a reused pid from its first owner."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read().decode("ascii", "replace")
        return data.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def current_owner() -> Dict[str, Any]:
    pid = os.getpid()
    return {"pid": pid, "host": socket.gethostname(), "start": _process_start(pid), "since": time.time()}


def owner_alive(owner: Any) -> bool:
    """Is the process that owns an entry still running (so its outcome is still coming)?"""
    if not isinstance(owner, dict):
        return False
    try:
        pid = int(owner.get("pid"))
        since = float(owner.get("since") or 0)
    except (TypeError, ValueError):
        return False
    age = time.time() - since
    if owner.get("host") != socket.gethostname():
        return age < FOREIGN_OWNER_TTL
    if pid == os.getpid():
        return False  # this process: nothing of ours is in flight while we flush
    if age > OWNER_TTL:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    except OSError:
        return False
    start = owner.get("start")
    if start and _process_start(pid) not in (None, start):
        return False  # the pid was reused by another process
    if _is_zombie(pid):
        return False
    return True


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().decode("ascii", "replace").rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


# -- file access ----------------------------------------------------------------

@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    # Private from the start: a directory others can write is refused (check_place).
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    check_place(path)
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
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a damaged line must not block the rest
            if isinstance(entry, dict):
                entries.append(entry)
    return entries


def _write(path: Path, entries: List[Dict[str, Any]]) -> None:
    """Replace the spool atomically. Call with the lock held."""
    # Under the lock, any temp file is a leftover of a writer that was killed.
    for stale in glob.glob(glob.escape(str(path)) + ".*.tmp"):
        with contextlib.suppress(OSError):
            os.unlink(stale)
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
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(str(path.parent), os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def entry_id(entry: Mapping[str, Any]) -> str:
    request = entry.get("request") if isinstance(entry.get("request"), Mapping) else {}
    return f"{entry.get('target')}:{request.get('operation')}:{entry.get('event_key')}"


def entry_format(entry: Mapping[str, Any]) -> int:
    """The format an entry was written in (1: shipmark 0.1.0, which wrote no version)."""
    version = entry.get("v", 1)
    return version if isinstance(version, int) and not isinstance(version, bool) else FORMAT + 1


def readable(entry: Mapping[str, Any]) -> bool:
    """Can this version resend the entry? Not one written by a newer shipmark (or damaged)."""
    return entry_format(entry) <= FORMAT


def make_entry(target: str, target_type: Optional[str], request: Dict[str, Any], event_key: Optional[str],
               *, state: str = PENDING, error: str = "", may_have_landed: bool = False,
               key: Optional[bytes] = None) -> Dict[str, Any]:
    """A new entry, signed with ``key`` (the target's, spool_trust.key_for; None: no secret)."""
    now = _now()
    return sign({"v": FORMAT, "sig": None, "target": target, "type": target_type, "event_key": event_key,
                 "request": request, "state": state, "error": error, "may_have_landed": may_have_landed,
                 "attempts": 0, "spooled_at": now, "updated_at": now,
                 "owner": current_owner() if state == PENDING else None}, key)


def expired(entry: Mapping[str, Any], now: Optional[datetime] = None) -> bool:
    """Spooled more than EXPIRY_DAYS ago (an entry without a readable date counts as expired)."""
    try:
        when = datetime.fromisoformat(str(entry.get("spooled_at")))
    except ValueError:
        return True
    when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    return ((now or datetime.now(timezone.utc)) - when).total_seconds() > EXPIRY_DAYS * 86400


# -- operations ---------------------------------------------------------------------

def journal(path: Path, entries: Sequence[Dict[str, Any]]) -> None:
    """Record writes about to be sent (state pending, owned by this process), in one write."""
    if not entries:
        return
    owner = current_owner()
    with _locked(path):
        current = _read(path)
        index = {entry_id(e): e for e in current}
        for new in entries:
            old = index.get(entry_id(new))
            if old is not None:
                # The new event replaces what was there, with its signature and date.
                old.update(v=FORMAT, sig=new.get("sig"), state=PENDING, owner=owner, updated_at=_now(),
                           request=new["request"], type=new.get("type"), spooled_at=new.get("spooled_at"))
                old.pop("noted", None)
            else:
                added = dict(new, state=PENDING, owner=owner)
                current.append(added)
                index[entry_id(added)] = added
        _write(path, current)


@dataclass(frozen=True)
class Settlement:
    """The outcome of one journaled write."""

    eid: str
    delivered: bool
    error: str = ""
    may_have_landed: bool = False


def settle_all(path: Path, settlements: Sequence[Settlement]) -> Set[str]:
    """Outcomes of journaled writes, in one rewrite of the spool (a fan-out settles in batches).

    Delivered: removed. Otherwise kept as failed, attempts counted. Returns the ids kept.
    """
    wanted = {s.eid: s for s in settlements}
    kept: Set[str] = set()
    with _locked(path):
        out = []
        for entry in _read(path):
            outcome = wanted.get(entry_id(entry))
            if outcome is not None:
                if outcome.delivered:
                    continue
                entry.update(state=FAILED, owner=None, error=outcome.error, updated_at=_now(),
                             may_have_landed=bool(entry.get("may_have_landed")) or outcome.may_have_landed,
                             attempts=int(entry.get("attempts") or 0) + 1)
                kept.add(outcome.eid)
            out.append(entry)
        _write(path, out)
    return kept


def claim(path: Path) -> List[Dict[str, Any]]:
    """Take every entry no live process owns (for a flush). Entries of dead owners become uncertain."""
    owner = current_owner()
    with _locked(path):
        entries = _read(path)
        claimed = []
        for entry in entries:
            previous = entry.get("owner")
            if previous and owner_alive(previous):
                continue
            if previous or entry.get("state") == PENDING:
                # Its process died while sending: it may or may not have been recorded.
                entry["may_have_landed"] = True
            entry.update(owner=owner, state=PENDING, updated_at=_now())
            claimed.append(dict(entry))
        if claimed:
            _write(path, entries)
    return claimed


def release(path: Path, eid: str, *, error: Optional[str] = None, may_have_landed: Optional[bool] = None,
            attempted: bool = True, noted: bool = False) -> None:
    """Give a claimed entry back (still not delivered); ``noted``: why it waits was said once."""
    with _locked(path):
        entries = _read(path)
        for entry in entries:
            if entry_id(entry) == eid:
                entry.update(state=FAILED, owner=None, updated_at=_now())
                if error is not None:
                    entry["error"] = error
                if may_have_landed:
                    entry["may_have_landed"] = True
                if attempted:
                    entry["attempts"] = int(entry.get("attempts") or 0) + 1
                if noted:
                    entry["noted"] = True
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


def quarantine_path(path: Path) -> Path:
    return path.with_name(path.name + ".quarantine")


def quarantine(path: Path, picks: Sequence[Tuple[str, Any, str]]) -> Path:
    """Move entries (entry id, sig, why) out of the spool into the quarantine file; never sent."""
    wanted = {(eid, json.dumps(sig)): why for eid, sig, why in picks}
    target = quarantine_path(path)
    with _locked(path):
        check_place(target)
        keep, moved = [], []
        for entry in _read(path):
            why = wanted.get((entry_id(entry), json.dumps(entry.get("sig"))))
            if why is None:
                keep.append(entry)
            else:
                moved.append(dict(entry, owner=None, quarantined_at=_now(), why=why))
        if moved:
            fd = os.open(str(target), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as fh:
                for entry in moved:
                    fh.write(json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            _write(path, keep)
    return target


def drop_target(path: Path, names: Sequence[str], *, dry_run: bool = False) -> Dict[str, int]:
    """Remove every entry of the named targets; the count removed for each name."""
    with _locked(path):
        entries = _read(path)
        keep = [e for e in entries if e.get("target") not in names]
        if not dry_run and len(keep) != len(entries):
            _write(path, keep)
    return {name: sum(1 for e in entries if e.get("target") == name) for name in names}


def has_entries(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False
