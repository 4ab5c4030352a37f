"""Reading REDCap API parameters: PHP-style arrays (``fields[0]=a``, ``fields[]=a``) or
comma-joined (``fields=a,b``), and case-insensitive booleans (``True``, ``true``, ``1``)."""

from __future__ import annotations

import re
from datetime import datetime

from django.http import QueryDict
from django.utils import timezone

from .responses import ApiError

_INDEXED = re.compile(r"^(?P<name>[A-Za-z_]+)\[(?P<index>\d*)\]$")
TRUE_WORDS = {"true", "1", "yes", "y", "on"}


class Params:
    def __init__(self, data: QueryDict) -> None:
        self.data = data

    def get(self, name: str, default: str = "") -> str:
        value = self.data.get(name)
        return default if value is None else str(value).strip()

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.data.get(name)
        if value is None or str(value).strip() == "":
            return default
        return str(value).strip().lower() in TRUE_WORDS

    def array(self, name: str) -> list[str]:
        indexed: list[tuple[int, int, str]] = []
        for order, key in enumerate(self.data.keys()):
            m = _INDEXED.match(key)
            if m and m.group("name") == name:
                index = int(m.group("index")) if m.group("index") else 10**9 + order
                indexed += [(index, order, v) for v in self.data.getlist(key)]
        values = [v for _, _, v in sorted(indexed)]
        for raw in self.data.getlist(name):
            values += raw.split(",")
        return [v.strip() for v in values if v and v.strip()]

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.get(name, default) or default
        lowered = {a.lower(): a for a in allowed}
        if value.lower() not in lowered:
            raise ApiError(f"The parameter '{name}' must be one of: {', '.join(allowed)}")
        return lowered[value.lower()]

    def when(self, name: str) -> datetime | None:
        value = self.get(name)
        if not value:
            return None
        for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
            try:
                return timezone.make_aware(datetime.strptime(value, fmt))  # noqa: DTZ007
            except ValueError:
                continue
        raise ApiError(f"The parameter '{name}' must be a date/time as YYYY-MM-DD HH:MM:SS")
