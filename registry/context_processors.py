"""What every page's menu shows from the registry: the number of unresolved queries."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from registry.models import Query, Record


def unresolved_queries(user) -> int:
    """Queries not yet closed on records the person reads (one aggregate query)."""
    return (
        Query.objects.filter(record__in=Record.objects.visible_to(user))
        .exclude(status=Query.Status.CLOSED)
        .count()
    )


def registry_menu(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Lazy: pages without the menu (downloads, fragments) never run the count.
    return {"open_query_count": SimpleLazyObject(lambda: unresolved_queries(user))}
