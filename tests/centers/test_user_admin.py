"""Data managers manage people and their roles in the admin; others cannot; every change of
an account or a role is in the audit trail."""

from __future__ import annotations

import pytest

from centers.models import Membership, Role, User
from registry.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_a_data_manager_adds_a_person_with_a_role_and_deactivates_them(client, people, centers):
    client.force_login(people["dm"])
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/centers/user/").status_code == 200
    response = client.post(
        "/admin/centers/user/add/",
        {
            "username": "new-coordinator",
            "password1": "a-Long-enough-passphrase-42",
            "password2": "a-Long-enough-passphrase-42",
            "usable_password": "true",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    user = User.objects.get(username="new-coordinator")
    change = f"/admin/centers/user/{user.pk}/change/"
    response = client.post(
        change,
        {
            "username": "new-coordinator",
            "first_name": "Nina",
            "last_name": "Neri",
            "email": "",
            "date_format": "dmy",
            "is_active": "on",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-0-role": Role.SITE_COORDINATOR,
            "memberships-0-center": str(centers["BOL"].pk),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Membership.objects.filter(user=user, role=Role.SITE_COORDINATOR).exists()
    membership = Membership.objects.get(user=user)
    response = client.post(
        change,
        {
            "username": "new-coordinator",
            "first_name": "Nina",
            "last_name": "Neri",
            "email": "",
            "date_format": "dmy",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "1",
            "memberships-0-id": str(membership.pk),
            "memberships-0-user": str(user.pk),
            "memberships-0-role": Role.SITE_COORDINATOR,
            "memberships-0-center": str(centers["BOL"].pk),
        },
    )  # is_active unticked: deactivated, never deleted
    assert response.status_code == 302, response.content.decode()[:3000]
    user.refresh_from_db()
    assert not user.is_active
    actions = list(
        AuditEvent.objects.filter(action__in=["user_create", "user_change", "role_change"])
        .order_by("seq")
        .values_list("action", "actor_name")
    )
    assert [a for a, _ in actions][-3:] == ["user_create", "role_change", "user_change"]
    assert all(who == people["dm"].full_name for _, who in actions[-3:])
    assert client.get(f"/admin/centers/user/{user.pk}/delete/").status_code == 403


def test_a_membership_without_its_centre_is_refused_with_a_message(client, people):
    client.force_login(people["dm"])
    user = people["coord_mil"]
    response = client.post(
        f"/admin/centers/user/{user.pk}/change/",
        {
            "username": user.username,
            "date_format": "dmy",
            "is_active": "on",
            "memberships-TOTAL_FORMS": "2",
            "memberships-INITIAL_FORMS": "1",
            "memberships-0-id": str(user.memberships.get().pk),
            "memberships-0-user": str(user.pk),
            "memberships-0-role": Role.SITE_COORDINATOR,
            "memberships-0-center": str(user.memberships.get().center_id),
            "memberships-1-role": Role.SITE_INVESTIGATOR,
            "memberships-1-center": "",
        },
    )
    assert response.status_code == 200
    assert user.memberships.count() == 1


@pytest.mark.parametrize("who", ["coord_mil", "inv_mil", "pi", "monitor"])
def test_other_roles_cannot_manage_people(client, people, who):
    client.force_login(people[who])
    assert client.get("/admin/centers/user/").status_code == 302  # to the admin log-in
    assert client.get("/admin/").status_code == 302
