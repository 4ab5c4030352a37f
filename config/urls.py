from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("centers.urls")),
    path("", include("registry.urls")),
    path("analytics/", include("analytics.urls")),
    path("admin/", admin.site.urls),
]

urlpatterns += [
    path("api/", include("registry.api.urls")),
    path("exports/", include("registry.exports.urls")),
]
