"""What a Redis STORE_URL says: the plain URL redis-py takes, and whether it names a Redis Cluster.

In core because both the store (`backend.store.redis`) and the rate limiter (`backend.core.limits`, whose
windows live next to the rooms) read it, and core may not import the store above it.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


def parse_url(url: str) -> tuple[str, bool]:
    """`redis+cluster://h:p` or `redis://h:p?cluster=1` mean a Redis Cluster; returns (plain URL, cluster?)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    flag = [v for k, v in query if k == "cluster"]
    cluster = parts.scheme.endswith("+cluster") or (bool(flag) and flag[-1].lower() in ("1", "true", "yes"))
    scheme = parts.scheme.removesuffix("+cluster")
    rest = urlencode([(k, v) for k, v in query if k != "cluster"])
    return urlunsplit((scheme, parts.netloc, parts.path, rest, parts.fragment)), cluster
