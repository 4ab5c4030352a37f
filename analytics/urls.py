from django.urls import path, register_converter

from . import views


class FigureFormat:
    regex = "svg|png|pdf"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(FigureFormat, "figfmt")

app_name = "analytics"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("freshness/", views.freshness, name="freshness"),
    path("progress/", views.progress, name="progress"),
    path("history/", views.history, name="history"),
    path("summary.json", views.summary_json, name="summary_json"),
    path("curves.csv", views.curves_csv, name="curves_csv"),
    path("table1.csv", views.table1_csv, name="table1_csv"),
    path("table1.html", views.table1_html, name="table1_html"),
    path("analysis-dataset.csv", views.analysis_dataset_csv, name="analysis_dataset_csv"),
    path("figures/v<int:version>/<slug:name>.<figfmt:fmt>", views.figure, name="figure"),
]
