from django.urls import path

from . import views

app_name = "exports"
urlpatterns = [
    path("", views.export_page, name="page"),
    path("<str:job_id>/status/", views.job_status, name="status"),
    path("<str:job_id>/download/", views.download, name="download"),
    path("<str:job_id>/retry/", views.retry, name="retry"),
]
