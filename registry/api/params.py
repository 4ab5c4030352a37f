"""Reading REDCap API parameters: PHP-style arrays (``fields[0]=a``, ``fields[]=a``) or
comma-joined (``fields=a,b``), and case-insensitive booleans (``True``, ``true``, ``1``).

The API's boundary for hostile bytes (registry.hostile_input): ``Params.refusal()`` names the
first parameter that holds any, before anything is looked up; ``for_audit()`` is what the audit
trail may store of the parameters."""

from __future__ import annotations

import re
from datetime import datetime
from typing import IO

from django.http import QueryDict
from django.utils import timezone
from django.utils.datastructures import MultiValueDict

from registry.hostile_input import describe_problem, integer_out_of_range, printable_name, scrub

from .responses import ApiError

_INDEXED = re.compile(r"^(?P<name>[A-Za-z_]+)\[(?P<index>\d*)\]$")
TRUE_WORDS = {"true", "1", "yes", "y", "on"}


class Params:
    def __init__(self, data: QueryDict, files: MultiValueDict | None = None) -> None:
        self.data = data
        self.files = files or MultiValueDict()

    def upload(self, name: str) -> IO[bytes] | None:
        """A parameter sent as a file in a multipart body (Django keeps a large one on disk)."""
        uploaded = self.files.get(name)
        return None if uploaded is None else uploaded.file

    def refusal(self) -> ApiError | None:
        """A 400 naming the first parameter that holds what the registry refuses, or None."""
        for name, values in self.data.lists():
            if name == "data":
                continue  # checked cell by cell when parsed, naming row and field
            problem = describe_problem(name, multiline=False)
            if problem:
                return ApiError(f"A parameter name ('{printable_name(name)}') contains {problem}")
            for value in values:
                problem = describe_problem(value)
                if problem:
                    return ApiError(f"The parameter '{name}' contains {problem}")
                if integer_out_of_range(value):
                    return ApiError(f"The parameter '{name}' is a number out of range")
        return None

    def for_audit(self, secret: set[str]) -> dict[str, list[str]]:
        """The parameters as the audit trail keeps them: no secrets, no raw hostile bytes."""
        kept = (k for k in self.data if k not in secret)
        return {printable_name(k, 200): scrub(self.data.getlist(k)) for k in kept}

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
