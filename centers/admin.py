"""People, centres and roles, managed by data managers in the Django admin (/admin/). A data
manager needs no staff flag or model permissions: the role is the permission. Nobody is
deleted (deactivate instead), and superuser and staff flags stay with superusers."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from .access import access_for
from .audit_context import set_actor
from .forms import OneTimePasswordForm
from .models import Center, Membership, User
from .reauth import clear_lockout
from .two_factor import reset_two_factor

# django-otp's own device admin would show secrets and bypass the audit: a person's second
# factor is reset with the action below (audited), and set up by the person themselves.
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


def _is_data_manager(request) -> bool:
    user = request.user
    return user.is_active and user.is_authenticated and access_for(user).is_data_manager


_default_has_permission = admin.site.has_permission


def _has_permission(request) -> bool:
    return _default_has_permission(request) or _is_data_manager(request)


admin.site.has_permission = _has_permission


def _own_password_change(request, extra_context=None):
    return redirect("password_change")  # one page, counted by the lockout (centers.reauth)


admin.site.password_change = _own_password_change


class DataManagerAdmin(admin.ModelAdmin):
    """Open to data managers (and superusers); nothing can be deleted."""

    def _allowed(self, request) -> bool:
        return request.user.is_superuser or _is_data_manager(request)

    def has_module_permission(self, request) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change) -> None:
        set_actor(request.user)  # the admin's transaction: the audit triggers name the editor
        super().save_model(request, obj, form, change)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    fields = ("role", "center")

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser or _is_data_manager(request)

    has_add_permission = has_view_permission
    has_change_permission = has_view_permission
    has_delete_permission = has_view_permission  # removing a role; audited by a trigger


@admin.register(User)
class RegistryUserAdmin(DataManagerAdmin, UserAdmin):
    """A password set here is one-time (the person changes it at the next log-in and signs
    nothing until then), and the audit names who set it."""

    inlines = [MembershipInline]
    change_password_form = OneTimePasswordForm
    list_display = (
        "username",
        "first_name",
        "last_name",
        "email",
        "is_active",
        "roles",
        "second_factor",
    )
    list_filter = ("is_active", "memberships__role", "memberships__center")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "email", "date_format")}),
        ("Access", {"fields": ("is_active", "last_login", "date_joined")}),
    )
    readonly_fields = ("last_login", "date_joined")
    actions = ["clear_login_lockout", "reset_second_factor"]

    @admin.action(description="Clear the log-in lockout of the selected people")
    def clear_login_lockout(self, request, queryset) -> None:
        people = list(queryset)
        for person in people:
            clear_lockout(username=person.get_username(), by=request.user)
        self.message_user(request, f"Log-in lockout cleared for {len(people)} people (audited).")

    @admin.action(description=_("Reset the second factor (lost phone) of the selected people"))
    def reset_second_factor(self, request, queryset) -> None:
        people = list(queryset)
        for person in people:
            reset_two_factor(person=person, by=request.user)
        self.message_user(
            request,
            _(
                "Second factor reset for %(count)d people (audited): each sets up a new one at "
                "the next log-in."
            )
            % {"count": len(people)},
        )

    @admin.display(description="roles")
    def roles(self, user: User) -> str:
        return ", ".join(
            f"{m.get_role_display()}{f' ({m.center.code})' if m.center else ''}"
            for m in user.memberships.select_related("center")
        )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and request.user.is_superuser:
            fieldsets = (*fieldsets, ("Superuser only", {"fields": ("is_staff", "is_superuser")}))
        return fieldsets

    def save_model(self, request, obj, form, change) -> None:
        if not change and obj.has_usable_password():
            obj.must_change_password = True  # a new person's first password is one-time
        super().save_model(request, obj, form, change)

    def user_change_password(self, request, id, form_url=""):
        # Django's view saves outside save_model: give its transaction the editor as actor.
        with transaction.atomic():
            set_actor(request.user, reason="password set in the admin")
            return super().user_change_password(request, id, form_url)

    @admin.display(description=_("second factor"), boolean=True)
    def second_factor(self, user: User) -> bool:
        return user.has_second_factor

    def get_queryset(self, request):
        queryset = (
            super()
            .get_queryset(request)
            .annotate(
                has_second_factor=Exists(
                    TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
                )
            )
        )
        if not request.user.is_superuser:  # a data manager cannot edit a superuser
            queryset = queryset.filter(is_superuser=False)
        return queryset


@admin.register(Center)
class CenterAdmin(DataManagerAdmin):
    list_display = ("code", "name", "city")
    search_fields = ("code", "name", "city")
