"""Who may do what: the one place roles are turned into permissions and centre scopes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from .models import STUDY_WIDE_ROLES, Center, Membership, Role, User

_STUDY_WIDE = frozenset(role.value for role in STUDY_WIDE_ROLES)


@dataclass
class Access:
    user: User

    @cached_property
    def memberships(self) -> list[Membership]:
        if not self.user.is_authenticated or not self.user.is_active:
            return []
        preloaded = getattr(self.user, "preloaded_memberships", None)  # centers.backends
        if preloaded is not None:
            return preloaded
        return list(self.user.memberships.select_related("center"))

    @cached_property
    def roles(self) -> set[str]:
        return {m.role for m in self.memberships}

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @cached_property
    def reads_all_centers(self) -> bool:
        return not self.roles.isdisjoint(_STUDY_WIDE)

    @cached_property
    def site_center_ids(self) -> set[int]:
        return {m.center_id for m in self.memberships if m.center_id is not None}

    def readable_center_ids(self) -> set[int] | None:
        """None means every centre."""
        return None if self.reads_all_centers else self.site_center_ids

    def unlocked_export_center_ids(self) -> set[int] | None:
        """Centres whose unlocked (not yet signed) records this person may export, through the
        web export and the API alike; None means every centre. Data managers: every centre;
        site staff: their own; the PI and monitors: none (they export the locked dataset)."""
        if self.is_data_manager:
            return None
        return {c.pk for c in self.editable_centers}

    @property
    def may_export_unlocked(self) -> bool:
        return self.unlocked_export_center_ids() != set()

    def can_edit_center(self, center_id: int) -> bool:
        return any(
            m.center_id == center_id and m.role in (Role.SITE_COORDINATOR, Role.SITE_INVESTIGATOR)
            for m in self.memberships
        )

    def can_lock_center(self, center_id: int) -> bool:
        return any(
            m.center_id == center_id and m.role == Role.SITE_INVESTIGATOR for m in self.memberships
        )

    def can_import_center(self, center_id: int) -> bool:
        """REDCap's data import right: site staff in their own centre, data managers in every
        centre (the form views still ask can_edit_center: data managers correct data in bulk,
        they do not enter it)."""
        return self.is_data_manager or self.can_edit_center(center_id)

    @property
    def import_centers(self) -> list[Center]:
        if self.is_data_manager:
            return list(Center.objects.all())
        return self.editable_centers

    @property
    def may_use_import_tool(self) -> bool:
        """The web Data Import Tool: data managers and site coordinators."""
        return self.is_data_manager or self.has(Role.SITE_COORDINATOR)

    @property
    def editable_centers(self) -> list[Center]:
        return [
            m.center
            for m in self.memberships
            if m.role in (Role.SITE_COORDINATOR, Role.SITE_INVESTIGATOR) and m.center is not None
        ]

    @property
    def is_data_manager(self) -> bool:
        return self.has(Role.DATA_MANAGER)

    @property
    def is_monitor(self) -> bool:
        return self.has(Role.MONITOR)

    @property
    def sees_pooled_dashboard(self) -> bool:
        return self.has(Role.PRINCIPAL_INVESTIGATOR, Role.DATA_MANAGER, Role.MONITOR)

    @property
    def can_raise_queries(self) -> bool:
        return self.has(Role.MONITOR, Role.DATA_MANAGER)


def access_for(user: User) -> Access:
    """Cached per user object, so one request computes memberships once."""
    cached = getattr(user, "_registry_access", None)
    if cached is None:
        cached = Access(user)
        if user.is_authenticated:
            user._registry_access = cached
    return cached
