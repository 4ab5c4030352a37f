from django.urls import path

from .views import (
    audit,
    codebook,
    data_import,
    deletion,
    dictionary,
    instrument,
    locking,
    quality,
    queries,
    records,
)

app_name = "registry"

urlpatterns = [
    path("records/", records.dashboard, name="dashboard"),
    path("records/new/", records.new_record, name="record_new"),
    path("records/lock/", locking.bulk_lock, name="bulk_lock"),
    path("records/<str:record_id>/", records.record_home, name="record"),
    path("records/<str:record_id>/lock/", locking.lock, name="lock"),
    path(
        "records/<str:record_id>/<str:instrument>/<int:instance>/lock/",
        locking.instrument_lock,
        name="instrument_lock",
    ),
    path("records/<str:record_id>/unlock/", locking.unlock, name="unlock"),
    path("records/<str:record_id>/delete/", deletion.record_delete_view, name="record_delete"),
    path("records/<str:record_id>/rename/", deletion.record_rename_view, name="record_rename"),
    path(
        "records/<str:record_id>/<str:instrument>/<int:instance>/delete/",
        deletion.instrument_delete_view,
        name="instrument_delete",
    ),
    path("records/<str:record_id>/acknowledge/", locking.acknowledge, name="acknowledge"),
    path("records/<str:record_id>/history/", audit.record_history, name="record_history"),
    path("records/<str:record_id>/history/<str:field>/", audit.field_history, name="field_history"),
    path("records/<str:record_id>/queries/new/", queries.query_open_view, name="query_open"),
    path(
        "records/<str:record_id>/<str:instrument>/<int:instance>/",
        instrument.instrument_form,
        name="instrument",
    ),
    path("audit/", audit.audit_log, name="audit"),
    path("deleted/", deletion.deleted_list, name="deleted"),
    path("deleted/<int:seq>/restore/", deletion.restore_view, name="restore"),
    path("quality/", quality.quality, name="quality"),
    path("quality/rules/<int:rule_id>/toggle/", quality.rule_toggle, name="rule_toggle"),
    path("queries/", queries.query_list, name="queries"),
    path("queries/<int:query_id>/", queries.query_detail, name="query"),
    path("dictionary/", dictionary.dictionary_home, name="dictionary"),
    path("dictionary/<int:number>/csv/", dictionary.dictionary_csv, name="dictionary_csv"),
    path("dictionary/translations/", dictionary.translation_upload, name="dictionary_translation"),
    path(
        "dictionary/<int:number>/translations/<str:language>.csv",
        dictionary.translation_download,
        name="dictionary_translation_csv",
    ),
    path("codebook/", codebook.codebook, name="codebook"),
    path("data-import/", data_import.data_import, name="data_import"),
    path("data-import/confirm/", data_import.data_import_confirm, name="data_import_confirm"),
    path("data-import/template/", data_import.data_import_template, name="data_import_template"),
]
