from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .access import access_for
from .audit_context import set_actor
from .events import account_event
from .forms import DateFormatForm, LanguageForm, NotificationsForm, OwnPasswordChangeForm
from .tokens import issue_api_token
from .two_factor import has_device


@login_required
def home(request):
    if access_for(request.user).sees_pooled_dashboard:
        return redirect("/analytics/")
    return redirect("/records/")


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    new_token = None
    date_form = DateFormatForm(instance=request.user)
    language_form = LanguageForm(instance=request.user)
    notifications_form = NotificationsForm(instance=request.user)
    if request.method == "POST" and "date_format" in request.POST:
        date_form = DateFormatForm(request.POST, instance=request.user)
        if date_form.is_valid():
            date_form.save()
            messages.success(request, _("Dates in the forms now use the format you chose."))
            return redirect("profile")
    elif request.method == "POST" and "language" in request.POST:
        language_form = LanguageForm(request.POST, instance=request.user)
        if language_form.is_valid():
            language_form.save()
            if request.user.language:  # the confirmation in the language just chosen
                translation.activate(request.user.language)
            messages.success(request, _("The pages now use the language you chose."))
            return redirect("profile")
    elif request.method == "POST" and "email_notifications" in request.POST:
        notifications_form = NotificationsForm(request.POST, instance=request.user)
        if notifications_form.is_valid():
            with transaction.atomic():
                notifications_form.save()
                account_event.send(
                    __name__,
                    action="email_notifications_set",
                    user=request.user,
                    by=request.user,
                    details={"choice": request.user.email_notifications},
                )
            messages.success(request, _("Your e-mail notification choice is saved."))
            return redirect("profile")
    elif request.method == "POST":
        new_token = issue_api_token(user=request.user)
        messages.success(request, _("A new API token was created. Copy it now: it is shown once."))
    tokens = request.user.api_tokens.filter(revoked_at__isnull=True)
    return render(
        request,
        "centers/profile.html",
        {
            "tokens": tokens,
            "new_token": new_token,
            "date_form": date_form,
            "language_form": language_form,
            "notifications_form": notifications_form,
            "has_second_factor": has_device(request.user),
        },
    )


def healthz(request):
    """For the container health check: the database answers (reads one row). Also the
    benchmarks' ceiling: the cheapest database-backed request this stack can serve."""
    from django.db import connection
    from django.http import HttpResponse

    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM django_migrations ORDER BY id LIMIT 1")
        cursor.fetchone()
    return HttpResponse("ok", content_type="text/plain")


class OwnPasswordChangeView(auth_views.PasswordChangeView):
    """The person changes their own password: required after someone else set it (one-time);
    audited with the person as the actor."""

    form_class = OwnPasswordChangeForm
    template_name = "centers/password_change.html"
    success_url = reverse_lazy("profile")

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form: OwnPasswordChangeForm) -> HttpResponse:
        with transaction.atomic():
            set_actor(self.request.user, reason="password changed by its owner")
            response = super().form_valid(form)
        messages.success(self.request, _("Your password is changed."))
        return response
