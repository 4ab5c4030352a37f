"""Authentication: Django's model backend, except that the demo password is refused in
production, so demo users left in a production database cannot log in with it."""

from __future__ import annotations

import functools
import json

from django.conf import settings
from django.contrib.auth.backends import ModelBackend

from config.prepared_statements import model_from_row, prepared_cursor, select_list

from .models import Center, Membership, User

# One constant statement, prepared on the connection: building it with the ORM (an annotated
# queryset) cost more to compile than PostgreSQL takes to run it, on every request.
_USER_WITH_MEMBERSHIPS = """
SELECT {user_columns},
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
        try:
            user_id = int(user_id)
        except (TypeError, ValueError):
            return None  # a session from elsewhere; ModelBackend finds no one for it either
        with prepared_cursor() as cursor:
            cursor.execute(_user_sql(), [user_id])
            found = cursor.fetchone()
        if found is None:
            return None
        user = model_from_row(User, found[:-1])
        if not self.user_can_authenticate(user):
            return None
        user.preloaded_memberships = [_membership(user, row) for row in json.loads(found[-1])]
        return user


@functools.cache
def _user_sql() -> str:
    """Built once from the model's columns (a prepared statement's columns must not change)."""
    return _USER_WITH_MEMBERSHIPS.format(user_columns=select_list(User, "u"))


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
