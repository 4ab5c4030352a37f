from django.contrib.auth import views as auth_views
from django.urls import path

from . import password_reset, views, views_two_factor

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/change/",
        views.OwnPasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/reset/",
        password_reset.RequestResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        password_reset.ConfirmResetView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("accounts/two-factor/", views_two_factor.manage, name="two_factor"),
    path("accounts/two-factor/verify/", views_two_factor.verify, name="two_factor_verify"),
    path("accounts/two-factor/setup/", views_two_factor.enrol, name="two_factor_enrol"),
    path("profile/", views.profile, name="profile"),
    path("healthz/", views.healthz, name="healthz"),
]
