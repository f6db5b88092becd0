"""HTTP for tests that talk to the real gateway: one request helper, whatever the status."""

from __future__ import annotations

import http.client
import json
import ssl
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Reply:
    status: int
    # Header names in lower case.
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def request(method: str, url: str, body: Any = None, *,
            headers: Mapping[str, str] | None = None, params: Mapping[str, Any] | None = None,
            ca: str | None = None, source: str | None = None, timeout: float = 10) -> Reply:
    """Sends one request and returns the reply, whatever its status.

    ``body`` is JSON-encoded unless it is bytes; ``params`` become the query string (the path in
    ``url`` is sent as written, so a test can send ``%ED%A0%80`` itself); ``ca`` is the CA file
    an https URL is verified against; ``source`` the local address to send from (another
    loopback address is another client to the gateway)."""
    parts = urllib.parse.urlsplit(url)
    target = parts.path or "/"
    query = "&".join(q for q in (parts.query, urllib.parse.urlencode(params or {})) if q)
    if query:
        target += "?" + query
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    sent = {"content-type": "application/json"} if data is not None else {}
    bind = (source, 0) if source else None
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        context = ssl.create_default_context(cafile=ca)
        conn = http.client.HTTPSConnection(parts.hostname or "", parts.port, timeout=timeout,
                                           context=context, source_address=bind)
    else:
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout,
                                          source_address=bind)
    try:
        conn.request(method, target, body=data, headers={**sent, **(headers or {})})
        reply = conn.getresponse()
        return Reply(reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read())
    finally:
        conn.close()
