"""The second step of a log-in, setting up an authenticator, renewing recovery codes."""

from __future__ import annotations

import base64

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from . import two_factor
from .forms import SecondFactorCodeForm


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    if request.user.is_verified() or not two_factor.has_device(request.user):
        return redirect(_next_url(request))
    form = SecondFactorCodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid() and two_factor.verify_login(
            request=request, code=form.cleaned_data["code"]
        ):
            if two_factor.codes_left(request.user) <= 2:
                messages.warning(
                    request,
                    _("Few recovery codes are left: make new ones on the two-factor page."),
                )
            return redirect(_next_url(request))
        form.add_error("code", _("The code is not correct, or too many tries: wait and retry."))
        status = 400
    return render(
        request,
        "centers/two_factor_verify.html",
        {"form": form, "next": _next_url(request)},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    """Set up (or replace) the authenticator. Replacing one needs a verified session; a person
    without one sets it up right after the password."""
    if two_factor.has_device(request.user) and not request.user.is_verified():
        return redirect("two_factor_verify")
    pending = two_factor.pending_authenticator(request)
    form = SecondFactorCodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            codes = two_factor.enrol_authenticator(request=request, code=form.cleaned_data["code"])
        except two_factor.TwoFactorError as exc:
            form.add_error("code", str(exc))
            status = 400
        else:
            return render(
                request,
                "centers/two_factor_codes.html",
                {"codes": codes, "next": _next_url(request), "enrolled": True},
            )
    elif request.method == "POST":
        status = 400
    qr = base64.b64encode(pending.qr_svg().encode()).decode()
    return render(
        request,
        "centers/two_factor_enrol.html",
        {
            "form": form,
            "pending": pending,
            "qr": qr,
            "next": _next_url(request),
            "required": two_factor.required_for(request.user),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST" and request.POST.get("action") == "renew_codes":
        if not two_factor.has_device(user):
            messages.error(request, _("Set up an authenticator first."))
            return redirect("two_factor")
        codes = two_factor.renew_recovery_codes(user=user)
        return render(request, "centers/two_factor_codes.html", {"codes": codes, "next": "/"})
    return render(
        request,
        "centers/two_factor.html",
        {
            "has_device": two_factor.has_device(user),
            "required": two_factor.required_for(user),
            "codes_left": two_factor.codes_left(user),
        },
    )
