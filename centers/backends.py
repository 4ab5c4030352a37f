"""Authentication: Django's model backend, except that the demo password is refused in
production, so demo users left in a production database cannot log in with it."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import F, OuterRef
from django.db.models.functions import JSONObject

from .models import Center, Membership, User


class RegistryBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if settings.PRODUCTION and password == settings.DEMO_PASSWORD:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_user(self, user_id):
        """The session's user with their memberships in the same statement: every request asks
        for both (centers.access), and a round trip costs more than the subquery."""
        memberships = ArraySubquery(
            Membership.objects.filter(user=OuterRef("pk"))
            .order_by("pk")
            .values(
                json=JSONObject(
                    id="pk",
                    center_id="center_id",
                    role="role",
                    code=F("center__code"),
                    name=F("center__name"),
                    city=F("center__city"),
                )
            )
        )
        user = User._default_manager.annotate(membership_rows=memberships).filter(pk=user_id)
        user = user.first()
        if user is None or not self.user_can_authenticate(user):
            return None
        user.preloaded_memberships = [_membership(user, row) for row in user.membership_rows]
        return user


def _membership(user: User, row: dict) -> Membership:
    center = None
    if row["center_id"] is not None:
        center = Center(id=row["center_id"], code=row["code"], name=row["name"], city=row["city"])
    return Membership(id=row["id"], user=user, center=center, role=row["role"])


def password_is_valid(user, password: str) -> bool:
    """The password check for electronic signatures, with the same production rule."""
    if settings.PRODUCTION and password == settings.DEMO_PASSWORD:
        return False
    return user.check_password(password)
