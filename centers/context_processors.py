from django.conf import settings

from .access import access_for


def registry_context(request):
    user = getattr(request, "user", None)
    return {
        "access": access_for(user) if user is not None and user.is_authenticated else None,
        "demo_mode": not settings.PRODUCTION,
        "two_factor_enforced": settings.TWO_FACTOR_ENFORCED,
    }
