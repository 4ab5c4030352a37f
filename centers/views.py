from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .access import access_for
from .forms import DateFormatForm
from .tokens import issue_api_token


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
    if request.method == "POST" and "date_format" in request.POST:
        date_form = DateFormatForm(request.POST, instance=request.user)
        if date_form.is_valid():
            date_form.save()
            messages.success(request, "Dates in the forms now use the format you chose.")
            return redirect("profile")
    elif request.method == "POST":
        new_token = issue_api_token(user=request.user)
        messages.success(request, "A new API token was created. Copy it now: it is shown once.")
    tokens = request.user.api_tokens.filter(revoked_at__isnull=True)
    return render(
        request,
        "centers/profile.html",
        {"tokens": tokens, "new_token": new_token, "date_form": date_form},
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
