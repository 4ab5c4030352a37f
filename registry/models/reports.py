from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from registry.logic import LogicSyntaxError, parse


class SavedReport(models.Model):
    """REDCap's saved report: which fields or instruments, and which records (filter logic).
    The API exports it by its id (content=report&report_id=N); rows are scoped like any
    record export, so the same report shows each caller only the centres they may read."""

    title = models.CharField(max_length=200)
    fields = models.JSONField(default=list, blank=True, help_text="Field names; empty = all.")
    forms = models.JSONField(default=list, blank=True, help_text="Instrument names; empty = all.")
    filter_logic = models.TextField(blank=True, help_text="REDCap logic, e.g. [sex] = '1'.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.pk}: {self.title}"

    def clean(self) -> None:
        for name in ("fields", "forms"):
            value = getattr(self, name)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValidationError({name: "A list of names is expected."})
        if self.filter_logic.strip():
            try:
                parse(self.filter_logic)
            except LogicSyntaxError as exc:
                raise ValidationError({"filter_logic": str(exc)}) from None
