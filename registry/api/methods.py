"""Every content/action pair of REDCap's API, and how this registry answers it: a handler, or
REDCap's error for that case. Nothing falls through to an export: a pair not listed here is
refused with REDCap's 'not valid' message.

``action`` is what the caller sent, or ``import`` when it sent ``data`` without an action
(REDCap's record, metadata, user, userRole and repeatingFormsEvents imports carry no action)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpResponse

from . import metadata_import, odm, pdf, project, record_delete, repeating, reports, roles
from .params import Params
from .responses import ApiError

Handler = Callable[..., HttpResponse]

NOT_LONGITUDINAL = "You cannot {verb} {what} for classic (non-longitudinal) projects"
NO_SURVEYS = "Surveys are not enabled for this project"
USERS_IN_ADMIN = (
    "Users, roles and centres are managed by a data manager in /admin/ (audited); "
    "the API cannot change them"
)


@dataclass(frozen=True)
class Refusal:
    message: str
    status: int = 400


# (content, action) -> handler(user, params, fmt, return_fmt)
HANDLERS: dict[tuple[str, str], Handler] = {
    ("metadata", "export"): lambda u, p, f, r: project.metadata(u, p, f),
    ("metadata", "import"): metadata_import.import_metadata,
    ("instrument", "export"): lambda u, p, f, r: project.instruments(u, p, f),
    ("exportFieldNames", "export"): lambda u, p, f, r: project.export_field_names(u, p, f),
    ("project", "export"): lambda u, p, f, r: project.project_info(u, p, f),
    ("project_xml", "export"): odm.project_xml,
    ("projectXml", "export"): odm.project_xml,
    ("version", "export"): lambda u, p, f, r: project.version_text(u, p, f),
    ("dag", "export"): lambda u, p, f, r: project.dags(u, p, f),
    ("userDagMapping", "export"): roles.user_dag_mapping,
    ("user", "export"): lambda u, p, f, r: project.users(u, p, f),
    ("userRole", "export"): roles.user_roles,
    ("userRoleMapping", "export"): roles.user_role_mapping,
    ("log", "export"): lambda u, p, f, r: project.log(u, p, f),
    ("generateNextRecordName", "export"): lambda u, p, f, r: project.next_record_name(u, p, f),
    ("repeatingFormsEvents", "export"): repeating.export_repeating,
    ("repeatingFormsEvents", "import"): repeating.import_repeating,
    ("report", "export"): reports.export_report,
    ("pdf", "export"): pdf.export_pdf,
    ("record", "rename"): record_delete.rename_record,
}

REFUSALS: dict[tuple[str, str], Refusal] = {
    **{
        (what, verb): Refusal(NOT_LONGITUDINAL.format(verb=verb, what=what))
        for what in ("arm", "event", "formEventMapping")
        for verb in ("export", "import", "delete")
        if not (what == "formEventMapping" and verb == "delete")
    },
    ("dag", "import"): Refusal(USERS_IN_ADMIN, 403),
    ("dag", "delete"): Refusal(USERS_IN_ADMIN, 403),
    ("dag", "switch"): Refusal(
        "A user's centre is their membership; switching Data Access Groups is not possible", 403
    ),
    ("userDagMapping", "import"): Refusal(USERS_IN_ADMIN, 403),
    ("user", "import"): Refusal(USERS_IN_ADMIN, 403),
    ("user", "delete"): Refusal(USERS_IN_ADMIN, 403),
    ("userRole", "import"): Refusal(USERS_IN_ADMIN, 403),
    ("userRole", "delete"): Refusal(USERS_IN_ADMIN, 403),
    ("userRoleMapping", "import"): Refusal(USERS_IN_ADMIN, 403),
    ("file", "export"): Refusal(
        "File upload fields hold no files in this registry; there is no file to download"
    ),
    ("file", "import"): Refusal(
        "File upload fields hold no files in this registry; files cannot be uploaded"
    ),
    ("file", "delete"): Refusal(
        "File upload fields hold no files in this registry; there is nothing to delete"
    ),
    **{
        ("fileRepository", verb): Refusal("This project has no File Repository")
        for verb in ("createFolder", "list", "export", "import", "delete")
    },
    ("project", "import"): Refusal(
        "Creating projects needs a Super API Token, which this registry does not issue", 403
    ),
    ("project_settings", "import"): Refusal(
        "Project settings are part of the data dictionary version; a data manager changes "
        "them with a new dictionary version"
    ),
    **{
        (what, "export"): Refusal(NO_SURVEYS)
        for what in (
            "surveyLink",
            "surveyQueueLink",
            "surveyAccessCode",
            "surveyReturnCode",
            "participantList",
        )
    },
    ("record", "randomize"): Refusal("Randomization is not enabled for this project"),
}

# content=record (export, import, delete) and content=lock (status, lock, unlock) are
# dispatched in views.py; they are listed here for the README table's test.
ROUTED_IN_VIEWS = {
    ("record", "export"),
    ("record", "import"),
    ("record", "delete"),
    ("lock", "status"),
    ("lock", "lock"),
    ("lock", "unlock"),
}
CONTENTS = {c for c, _ in HANDLERS} | {c for c, _ in REFUSALS} | {c for c, _ in ROUTED_IN_VIEWS}


def effective_action(params: Params) -> str:
    action = params.get("action")
    if action:
        return action
    return "import" if "data" in params.data else "export"


def dispatch(user, params: Params, content: str, fmt: str, return_fmt: str) -> HttpResponse:
    if not content:
        raise ApiError('The parameter "content" is missing')
    if content not in CONTENTS:
        raise ApiError('The value of the parameter "content" is not valid')
    action = effective_action(params)
    if (content, action) in REFUSALS:
        refusal = REFUSALS[(content, action)]
        raise ApiError(refusal.message, refusal.status)
    handler = HANDLERS.get((content, action))
    if handler is None:
        raise ApiError('The value of the parameter "action" is not valid')
    return handler(user, params, fmt, return_fmt)
