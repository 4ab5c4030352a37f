"""Centres, people and their roles."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    SITE_COORDINATOR = "site_coordinator", _("Site coordinator")
    SITE_INVESTIGATOR = "site_investigator", _("Site investigator")
    PRINCIPAL_INVESTIGATOR = "principal_investigator", _("Principal investigator")
    DATA_MANAGER = "data_manager", _("Data manager")
    MONITOR = "monitor", _("Monitor")


SITE_ROLES = {Role.SITE_COORDINATOR, Role.SITE_INVESTIGATOR}
STUDY_WIDE_ROLES = {Role.PRINCIPAL_INVESTIGATOR, Role.DATA_MANAGER, Role.MONITOR}


class DateFormat(models.TextChoices):
    DMY = "dmy", _("dd/mm/yyyy (day first: Italy, most of Europe)")
    MDY = "mdy", _("mm/dd/yyyy (month first: United States)")
    YMD = "ymd", _("yyyy-mm-dd (ISO 8601)")


class Language(models.TextChoices):
    """The person's language; blank follows the browser (settings.LANGUAGES holds both)."""

    BROWSER = "", _("As my browser asks")
    ENGLISH = "en-gb", "English"
    ITALIAN = "it", "Italiano"


class EmailNotifications(models.TextChoices):
    EACH = "each", _("An e-mail for each event")
    DAILY = "daily", _("One daily digest")
    OFF = "off", _("No e-mail")


class User(AbstractUser):
    """A person with a log-in. Roles come from memberships, never from this row."""

    date_format = models.CharField(
        max_length=3,
        choices=DateFormat.choices,
        default=DateFormat.DMY,
        help_text="How this person types and reads dates in the forms; stored dates are ISO.",
    )
    language = models.CharField(
        max_length=8,
        choices=Language.choices,
        blank=True,
        default="",
        help_text="The language of the pages and of the study's forms; blank follows the browser.",
    )
    must_change_password = models.BooleanField(
        default=False,
        help_text="Set when someone else sets this person's password: it is one-time, to be "
        "changed at the next log-in, and no signature is accepted until then.",
    )
    email_notifications = models.CharField(
        max_length=5,
        choices=EmailNotifications.choices,
        default=EmailNotifications.EACH,
        verbose_name=_("E-mail notifications"),
        help_text=_("New queries, answers, records ready to sign, failed integrity checks."),
    )

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return self.get_full_name() or self.username


class Center(models.Model):
    code = models.CharField(
        max_length=8,
        unique=True,
        validators=[RegexValidator(r"^[A-Z]{2,8}$", "Two to eight capital letters, e.g. MIL.")],
        help_text="Short code, also the prefix of the centre's record ids (MIL-0001).",
    )
    name = models.CharField(max_length=200)
    city = models.CharField(max_length=100)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} - {self.name}"


class Membership(models.Model):
    """A role held by a person, at one centre (site roles) or study-wide (center is null)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    center = models.ForeignKey(
        Center, on_delete=models.PROTECT, null=True, blank=True, related_name="memberships"
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "center", "role"], name="membership_unique"),
            models.CheckConstraint(
                name="membership_site_roles_need_center",
                condition=~models.Q(role__in=["site_coordinator", "site_investigator"])
                | models.Q(center__isnull=False),
            ),
            models.CheckConstraint(
                name="membership_study_roles_are_study_wide",
                condition=models.Q(role__in=["site_coordinator", "site_investigator"])
                | models.Q(center__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        where = self.center.code if self.center_id else "study-wide"
        return f"{self.user} - {self.get_role_display()} ({where})"


class ApiToken(models.Model):
    """A REDCap-style 32-character hex API token. Only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    token_sha256 = models.CharField(max_length=64, unique=True)
    last_four = models.CharField(max_length=4)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"token ...{self.last_four} for {self.user}"


class Notification(models.Model):
    """An e-mail owed to a person, written in the transaction of the event that caused it (an
    outbox): sent by a task after commit, or gathered into the daily digest."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["sent_at", "user"], name="notification_unsent")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user}"
