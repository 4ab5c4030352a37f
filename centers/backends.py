"""Authentication: Django's model backend, except that the demo password is refused in
production, so demo users left in a production database cannot log in with it."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib.auth.backends import ModelBackend

from .models import Center, Membership, User

# One constant statement: building it with the ORM (an annotated queryset) cost more to compile
# than PostgreSQL takes to run it, on every request.
_USER_WITH_MEMBERSHIPS = """
SELECT u.*,
       (SELECT coalesce(json_agg(json_build_object('id', m.id, 'center_id', m.center_id,
                                                   'role', m.role, 'code', c.code,
                                                   'name', c.name, 'city', c.city)
                                 ORDER BY m.id), '[]')::text
          FROM centers_membership m LEFT JOIN centers_center c ON c.id = m.center_id
         WHERE m.user_id = u.id) AS membership_rows
  FROM centers_user u
 WHERE u.id = %s
"""


class RegistryBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if settings.PRODUCTION and password == settings.DEMO_PASSWORD:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_user(self, user_id):
        """The session's user with their memberships in the same statement: every request asks
        for both (centers.access), and a round trip costs more than the subquery."""
        found = list(User._default_manager.raw(_USER_WITH_MEMBERSHIPS, [user_id]))  # noqa: S611
        if not found or not self.user_can_authenticate(found[0]):
            return None
        user = found[0]
        rows = json.loads(user.membership_rows)
        user.preloaded_memberships = [_membership(user, row) for row in rows]
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
