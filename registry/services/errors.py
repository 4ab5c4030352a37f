"""Errors the registry's services raise; views and the API turn them into messages."""

from __future__ import annotations


class RegistryError(Exception):
    """A refused state change, with a message fit for the user."""


class PermissionDenied(RegistryError):
    pass


class RecordLocked(RegistryError):
    pass


class ReasonRequired(RegistryError):
    pass


class EditConflict(RegistryError):
    """Someone saved this form since it was opened; `current` is the row as it is now."""

    def __init__(self, message: str, *, current) -> None:
        super().__init__(message)
        self.current = current


class LockRefused(RegistryError):
    def __init__(self, message: str, *, blockers: list[str] | None = None) -> None:
        super().__init__(message)
        self.blockers = blockers or []


class DictionaryChangeRefused(RegistryError):
    """The new dictionary would orphan or reinterpret collected data."""

    def __init__(self, message: str, *, changes: list, affected: dict) -> None:
        super().__init__(message)
        self.changes = changes
        self.affected = affected


class DictionaryUnchanged(RegistryError):
    """The upload means exactly what the current version says; no version was created."""

    def __init__(self, message: str, *, current) -> None:
        super().__init__(message)
        self.current = current
