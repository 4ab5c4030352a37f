"""Test data builders (factory_boy)."""

from __future__ import annotations

import factory

from centers.models import Center, Membership, Role, User

CENTERS = [
    ("MIL", "Fondazione IRCCS Istituto Nazionale dei Tumori", "Milano"),
    ("BOL", "IRCCS Istituto Ortopedico Rizzoli", "Bologna"),
    ("ROM", "Istituto Nazionale Tumori Regina Elena", "Roma"),
    ("TOR", "Candiolo Cancer Institute", "Torino"),
    ("PAD", "Istituto Oncologico Veneto", "Padova"),
    ("NAP", "Istituto Nazionale Tumori Fondazione Pascale", "Napoli"),
]


class CenterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Center
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"C{chr(65 + n % 26)}{chr(65 + n // 26 % 26)}")
    name = factory.LazyAttribute(lambda o: f"Centre {o.code}")
    city = "Testville"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def six_centers() -> dict[str, Center]:
    return {code: CenterFactory(code=code, name=name, city=city) for code, name, city in CENTERS}


def user_with_role(role: str, center: Center | None = None, **kwargs) -> User:
    user = UserFactory(**kwargs)
    Membership.objects.create(user=user, center=center, role=role)
    return user


def coordinator(center: Center, **kw) -> User:
    return user_with_role(Role.SITE_COORDINATOR, center, **kw)


def investigator(center: Center, **kw) -> User:
    return user_with_role(Role.SITE_INVESTIGATOR, center, **kw)


def data_manager(**kw) -> User:
    return user_with_role(Role.DATA_MANAGER, None, **kw)


def principal_investigator(**kw) -> User:
    return user_with_role(Role.PRINCIPAL_INVESTIGATOR, None, **kw)


def monitor(**kw) -> User:
    return user_with_role(Role.MONITOR, None, **kw)


def gi_lms_dictionary():
    from registry.services.dictionary import import_default_dictionary

    return import_default_dictionary()
