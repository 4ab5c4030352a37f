"""content=userRole, userRoleMapping and userDagMapping exports: the registry's five roles in
REDCap's user-rights vocabulary, and who holds which role in which centre (scoped like
content=user: a site role's token sees its own centre's people only)."""

from __future__ import annotations

from django.http import HttpResponse

from centers.access import access_for
from centers.models import Membership, Role
from registry.services.dictionary import current_dictionary_version

from .params import Params
from .responses import rows_response

NONE, EDIT, READ = 0, 1, 2  # REDCap's form rights: no access, view and edit, read only
# What each role may do, in REDCap's user-rights keys (1 = yes, 0 = no; lock_records 2 means
# lock with an electronic signature).
RIGHTS: dict[str, dict[str, int]] = {
    Role.SITE_COORDINATOR: {"record_create": 1, "record_delete": 1, "api_import": 1},
    Role.SITE_INVESTIGATOR: {
        "record_create": 1,
        "record_delete": 1,
        "api_import": 1,
        "lock_records": 2,
    },
    Role.PRINCIPAL_INVESTIGATOR: {"stats_and_charts": 1},
    Role.DATA_MANAGER: {
        "design": 1,
        "user_rights": 1,
        "data_access_groups": 1,
        "api_import": 1,
        "lock_records": 1,
        "data_quality_create": 1,
        "data_quality_execute": 1,
        "logging": 1,
    },
    Role.MONITOR: {"data_quality_execute": 1, "logging": 1},
}
RIGHT_KEYS = (
    "design",
    "user_rights",
    "data_access_groups",
    "data_export",
    "reports",
    "stats_and_charts",
    "logging",
    "data_quality_create",
    "data_quality_execute",
    "api_export",
    "api_import",
    "record_create",
    "record_rename",
    "record_delete",
    "lock_records",
)
EDITING_ROLES = {Role.SITE_COORDINATOR, Role.SITE_INVESTIGATOR}


def user_roles(user, params: Params, fmt: str, return_fmt: str) -> HttpResponse:
    forms = current_dictionary_version().dictionary.form_names
    rows = []
    for role in Role:
        rights = dict.fromkeys(RIGHT_KEYS, 0) | {"data_export": 1, "reports": 1, "api_export": 1}
        rights |= RIGHTS[role]
        form_right = EDIT if role in EDITING_ROLES else READ
        form_rights = dict.fromkeys(forms, form_right)
        rows.append(
            {
                "unique_role_name": role.value,
                "role_label": str(role.label),
                **rights,
                "forms": form_rights
                if fmt == "json"
                else ",".join(f"{f}:{r}" for f, r in form_rights.items()),
            }
        )
    return rows_response(rows, fmt)


def _memberships(user):
    centers = access_for(user).readable_center_ids()
    members = Membership.objects.select_related("user", "center").order_by("user__username", "role")
    return members if centers is None else members.filter(center_id__in=centers)


def user_role_mapping(user, params: Params, fmt: str, return_fmt: str) -> HttpResponse:
    """One row per membership: a person may hold several roles (REDCap allows one)."""
    rows = [{"username": m.user.username, "unique_role_name": m.role} for m in _memberships(user)]
    return rows_response(rows, fmt, columns=["username", "unique_role_name"])


def user_dag_mapping(user, params: Params, fmt: str, return_fmt: str) -> HttpResponse:
    """A site role's centre is its Data Access Group; study-wide roles have none."""
    groups: dict[str, str] = {}
    for m in _memberships(user):
        current = groups.setdefault(m.user.username, "")
        if m.center_id and not current:
            groups[m.user.username] = m.center.code.lower()
    rows = [{"username": u, "redcap_data_access_group": g} for u, g in groups.items()]
    return rows_response(rows, fmt, columns=["username", "redcap_data_access_group"])
