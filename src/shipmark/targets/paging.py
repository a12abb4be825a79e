"""How a backend walks a service's lists: one strategy per way services page.

- ``cursor_pages``: ``limit`` plus ``after=<meta.next>`` inside a ``{"meta", "entries"}``
  envelope, until the cursor is null (DeployBot);
- ``numbered_pages``: ``page=1, 2, ...`` with ``per_page`` until a short page (Beanstalk,
  Aviator: neither sends totals or links);
- ``link_pages``: the RFC 8288 ``Link: <...>; rel="next"`` header, only on the target's own
  origin since the token goes with every request (ReleaseBits, defensively);
- ``single_page``: one GET that returns everything (BuildMaster).

Each yields ``(records, response)`` per page; the caller stops when it has enough.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple
from urllib.parse import urljoin, urlsplit

from shipmark.targets.values import unexpected

if TYPE_CHECKING:  # pragma: no cover
    from shipmark.http import HttpClient, HttpResponse

Records = List[Dict[str, Any]]
Page = Tuple[Records, "HttpResponse"]
Reader = Callable[["HttpResponse"], Records]  # the records of one page's response


def single_page(http: "HttpClient", path: str, params: Optional[Mapping[str, Any]], read: Reader) -> Iterator[Page]:
    resp = http.request("GET", path, params=params)
    yield read(resp), resp


def numbered_pages(http: "HttpClient", path: str, per_page: int, read: Reader,
                   params: Optional[Mapping[str, Any]] = None) -> Iterator[Page]:
    page = 1
    while True:
        resp = http.request("GET", path, params={**(params or {}), "page": page, "per_page": per_page})
        records = read(resp)
        yield records, resp
        if len(records) < per_page:  # no totals or links: a short page is the last
            return
        page += 1


def cursor_pages(http: "HttpClient", path: str, limit: int, where: str,
                 params: Optional[Mapping[str, Any]] = None) -> Iterator[Page]:
    after: Any = None
    seen = set()
    while True:
        query = {**(params or {}), "limit": limit}
        if after is not None:
            query["after"] = after
        resp = http.request("GET", path, params=query)
        data = resp.json()
        if data is None:  # an empty body: nothing listed
            return
        if isinstance(data, list):  # tolerate a bare list: one page
            yield [e for e in data if isinstance(e, dict)], resp
            return
        if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
            raise unexpected(data, where, '{"meta": ..., "entries": [...]}')
        entries = [e for e in data["entries"] if isinstance(e, dict)]
        yield entries, resp
        after = (data.get("meta") or {}).get("next")
        if after is None or not entries or str(after) in seen:  # seen: never loop on a bad cursor
            return
        seen.add(str(after))


def link_pages(http: "HttpClient", path: str, read: Reader, max_pages: int) -> Iterator[Page]:
    next_path: Optional[str] = path
    seen = set()
    pages = 0
    while next_path and pages < max_pages:
        pages += 1
        seen.add(http.url(next_path))
        resp = http.request("GET", next_path)
        yield read(resp), resp
        link = next((v for k, v in resp.headers.items() if k.lower() == "link"), "")
        next_path = next_link(link, resp.url, http.base_url)
        if next_path is not None and http.url(next_path) in seen:
            return


def next_link(header: str, current_url: str, base_url: str) -> Optional[str]:
    """The rel="next" URL of an RFC 8288 Link header, if it stays on the target's origin."""
    for part in header.split(","):
        if "<" not in part or ">" not in part:
            continue
        target, _, params = part.partition(">")
        rels = [p.strip() for p in params.split(";") if p.strip().lower().startswith("rel=")]
        if not any("next" in r.split("=", 1)[1].strip("\"' ").lower().split() for r in rels):
            continue
        url = urljoin(current_url, target.strip().lstrip("<").strip())
        here, base = urlsplit(url), urlsplit(base_url)
        if (here.scheme, here.netloc) != (base.scheme, base.netloc):
            return None  # never send the token to another host
        return url
    return None
