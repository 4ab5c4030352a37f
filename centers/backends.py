"""Authentication: Django's model backend, except that the demo password is refused in
production, so demo users left in a production database cannot log in with it."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.db.models import JSONField
from django.db.models.expressions import RawSQL

from .models import Center, Membership, User

# Written as SQL rather than an ArraySubquery: compiling that expression cost more than the
# statement itself, on every request.
_MEMBERSHIPS = RawSQL(
    """SELECT coalesce(json_agg(json_build_object('id', m.id, 'center_id', m.center_id,
                                                  'role', m.role, 'code', c.code,
                                                  'name', c.name, 'city', c.city)
                                ORDER BY m.id), '[]')::jsonb
         FROM centers_membership m LEFT JOIN centers_center c ON c.id = m.center_id
        WHERE m.user_id = centers_user.id""",
    (),
    output_field=JSONField(),
)


class RegistryBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if settings.PRODUCTION and password == settings.DEMO_PASSWORD:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_user(self, user_id):
        """The session's user with their memberships in the same statement: every request asks
        for both (centers.access), and a round trip costs more than the subquery."""
        user = User._default_manager.annotate(membership_rows=_MEMBERSHIPS).filter(pk=user_id)
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
