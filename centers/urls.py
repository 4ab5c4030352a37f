from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/change/",
        views.OwnPasswordChangeView.as_view(),
        name="password_change",
    ),
    path("profile/", views.profile, name="profile"),
    path("healthz/", views.healthz, name="healthz"),
]
