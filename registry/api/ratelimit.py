"""Per-token rate limit: API_RATE_LIMIT_PER_MINUTE calls per calendar minute, counted in Django's
cache (CACHE_URL=redis://... makes it one count across all server processes). Over the limit
the call gets 429 with Retry-After; the count resets the next minute (no permanent bans)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache


def over_limit(token_digest: str) -> int:
    """0 if the call may proceed, else the seconds until the next minute."""
    limit = int(getattr(settings, "API_RATE_LIMIT_PER_MINUTE", 600))
    if limit <= 0:
        return 0
    now = time.time()
    minute = int(now // 60)
    key = f"api-rate:{token_digest}:{minute}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=120)
        count = 1
    if count > limit:
        return max(1, int(60 - now % 60))
    return 0
