"""Data-quality findings per centre, and the data manager's custom rules."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from centers.access import access_for
from registry.display import field_label, finding_text
from registry.forms.quality import RuleForm
from registry.models import DataQualityRule, Record
from registry.quality import findings_for
from registry.services.queries import quality_rule_create, quality_rule_set_active

from .common import dictionary_version


@login_required
@require_http_methods(["GET", "POST"])
def quality(request):
    version = dictionary_version()
    is_dm = access_for(request.user).is_data_manager
    form = RuleForm(request.POST or None, dictionary=version.dictionary)
    status = 200
    if request.method == "POST":
        if not is_dm:
            raise Forbidden(_("Only data managers write data-quality rules."))
        if form.is_valid():
            quality_rule_create(
                user=request.user, name=form.cleaned_data["name"], logic=form.cleaned_data["logic"]
            )
            messages.success(request, _("The rule was added."))
            return redirect("registry:quality")
        status = 400
    records = Record.objects.visible_to(request.user).select_related("center")
    center = request.GET.get("center", "")
    if center:
        records = records.filter(center__code=center)
    by_center: dict[str, list] = {}
    order = request.user.date_format
    for record in records.order_by("center__code", "sequence"):
        acknowledged = set(record.acknowledgements.values_list("rule_key", flat=True))
        for finding in findings_for(record, version):
            link = record.get_absolute_url()
            if finding.instrument:
                link = reverse(
                    "registry:instrument",
                    args=[record.record_id, finding.instrument, finding.instance],
                )
                link += f"#field-{finding.field}" if finding.field else ""
            by_center.setdefault(record.center.code, []).append(
                {
                    "record": record,
                    "finding": finding,
                    "link": link,
                    "acknowledged": finding.rule_key in acknowledged,
                    "text": finding_text(finding.message, version.dictionary, order),
                    "field_label": field_label(version.dictionary, finding.field),
                }
            )
    return render(
        request,
        "registry/quality.html",
        {
            "by_center": sorted(by_center.items()),
            "form": form,
            "is_dm": is_dm,
            "rules": DataQualityRule.objects.order_by("-created_at"),
            "center": center,
        },
        status=status,
    )


@login_required
@require_POST
def rule_toggle(request, rule_id: int):
    rule = get_object_or_404(DataQualityRule, pk=rule_id)
    if not access_for(request.user).is_data_manager:
        raise Forbidden(_("Only data managers change data-quality rules."))
    quality_rule_set_active(user=request.user, rule=rule, active=not rule.is_active)
    return redirect("registry:quality")
