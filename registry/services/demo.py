"""Loading the demo: centres, users with each role, the study dictionary and the synthetic
cohort, entered through the same services as real data (validated, audited, signed)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from centers.models import Center, Membership, Role, User
from registry.demo import CENTER_CODES, build_cohort
from registry.entry import clean_instrument
from registry.models import FormStatus, Record

from .dictionary import import_default_dictionary
from .locking import SIGNATURE_MEANINGS, lock_records
from .queries import query_open
from .records import create_record, record_values, save_instrument

CENTERS = {
    "MIL": ("Fondazione IRCCS Istituto Nazionale dei Tumori", "Milano"),
    "BOL": ("IRCCS Istituto Ortopedico Rizzoli", "Bologna"),
    "ROM": ("Istituto Nazionale Tumori Regina Elena", "Roma"),
    "TOR": ("Candiolo Cancer Institute FPO-IRCCS", "Torino"),
    "PAD": ("Istituto Oncologico Veneto IRCCS", "Padova"),
    "NAP": ("Istituto Nazionale Tumori IRCCS Fondazione G. Pascale", "Napoli"),
}
STUDY_USERS = [
    ("pi", "Principal", "Investigator", Role.PRINCIPAL_INVESTIGATOR),
    ("datamanager", "Data", "Manager", Role.DATA_MANAGER),
    ("monitor", "Study", "Monitor", Role.MONITOR),
]


def DEMO_USERS() -> list[tuple[str, str]]:  # noqa: N802 - reads like the constant it lists
    users = []
    for code in CENTER_CODES:
        users.append((f"coordinator-{code.lower()}", f"site coordinator, {code}"))
        users.append((f"investigator-{code.lower()}", f"site investigator, {code}"))
    users += [(u, role.label.lower()) for u, _, _, role in STUDY_USERS]
    return users


def _user(username: str, first: str, last: str) -> User:
    user, created = User.objects.get_or_create(
        username=username, defaults={"first_name": first, "last_name": last}
    )
    if created:
        user.set_password(settings.DEMO_PASSWORD)
        user.save()
    return user


def seed_demo() -> str:
    """All or nothing: a failure leaves no half-loaded demo behind."""
    with transaction.atomic():
        return _seed_demo()


def _seed_demo() -> str:
    if settings.PRODUCTION:
        raise RuntimeError("demo data are refused in production mode")
    centers = {}
    for code, (name, city) in CENTERS.items():
        centers[code], _ = Center.objects.get_or_create(
            code=code, defaults={"name": name, "city": city}
        )
    investigators = {}
    for code, center in centers.items():
        coord = _user(f"coordinator-{code.lower()}", "Coordinator", code)
        Membership.objects.get_or_create(user=coord, center=center, role=Role.SITE_COORDINATOR)
        inv = _user(f"investigator-{code.lower()}", "Investigator", code)
        Membership.objects.get_or_create(user=inv, center=center, role=Role.SITE_INVESTIGATOR)
        investigators[code] = inv
    for username, first, last, role in STUDY_USERS:
        Membership.objects.get_or_create(user=_user(username, first, last), center=None, role=role)
    version = import_default_dictionary()
    if Record.objects.filter(synthetic=True).exists():
        return "demo data already present; nothing added"

    to_lock: dict[str, list[Record]] = {}
    monitor = User.objects.get(username="monitor")
    for patient in build_cohort():
        user = investigators[patient.center]
        record = create_record(user=user, center=centers[patient.center], synthetic=True)
        _enter(record, patient, user, version)
        if patient.lock:
            to_lock.setdefault(patient.center, []).append(record)
        if patient.query:
            instrument, field, text = patient.query
            query_open(
                user=monitor,
                record=record,
                instrument=instrument,
                instance=1,
                field=field,
                text=text,
            )
    for code, records in to_lock.items():
        lock_records(
            user=investigators[code],
            records=records,
            password=settings.DEMO_PASSWORD,
            meaning=SIGNATURE_MEANINGS[0],
            dictionary_version=version,
        )
    locked = sum(len(r) for r in to_lock.values())
    return (
        f"demo data loaded: 6 centres, {Record.objects.count()} SYNTHETIC records, {locked} locked "
        "(the published cohort; the others show data entry, a signature and a query pending)"
    )


def _enter(record: Record, patient, user, version) -> None:
    dictionary = version.dictionary
    status = FormStatus.COMPLETE if patient.complete else FormStatus.INCOMPLETE
    for form, _label in dictionary.forms:
        for instance, values in enumerate(patient.forms.get(form, []), start=1):
            cleaned = clean_instrument(
                dictionary=dictionary,
                instrument=form,
                submitted=values,
                context=record_values(record),
                status=status,
                missing_codes=version.missing_code_values,
            )
            if not cleaned.ok:
                raise ValueError(f"demo data invalid for {record}/{form}: {cleaned.errors}")
            save_instrument(
                user=user,
                record=record,
                instrument=form,
                instance=instance,
                data=cleaned.data,
                status=status,
                expected_version=None,
                dictionary_version=version,
            )
