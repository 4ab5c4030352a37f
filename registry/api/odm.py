"""content=project_xml: the project as CDISC ODM 1.3.2, as REDCap's "entire project as REDCap XML"
export: the study's metadata (instruments as FormDef, fields as ItemDef, choices as CodeList)
and, unless ``returnMetadataOnly=true``, the records the caller may read as ClinicalData.

Built with ElementTree, so every label and value is escaped; characters XML 1.0 cannot carry are
dropped. A classic project has one event, ``Event.event_1_arm_1``, as REDCap writes it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from django.http import HttpResponse
from django.utils import timezone

from registry.dictionary.model import FieldDef, checkbox_export_name
from registry.exports.rows import RowBuilder
from registry.exports.stream import export_records, iter_bundles
from registry.services.dictionary import current_dictionary_version

from .params import Params
from .project import REDCAP_VERSION
from .record_export import export_options
from .responses import CONTENT_TYPES

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
EVENT_OID = "Event.event_1_arm_1"
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
FORM_STATUS_OID = "form_status.choices"
FORM_STATUSES = (("0", "Incomplete"), ("1", "Unverified"), ("2", "Complete"))
DATA_TYPES = {
    "date": "date",
    "datetime": "datetime",
    "datetime_seconds": "datetime",
    "integer": "integer",
    "number": "float",
}


def _text(value) -> str:
    return _NOT_XML.sub("", str(value))


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: _text(v) for k, v in attrs.items()})
    if text is not None:
        element.text = _text(text)
    return element


def _translated(parent: ET.Element, tag: str, text: str) -> None:
    _sub(_sub(parent, tag), "TranslatedText", text, **{XML_LANG: "en"})


def _data_type(field: FieldDef) -> str:
    if field.field_type in ("calc", "slider"):
        return "float"
    vt = field.validation_type
    return DATA_TYPES.get(vt.kind, "text") if vt is not None else "text"


def _item_oids(field: FieldDef) -> list[tuple[str, str]]:
    """(ItemOID, choice code or '') for each item a field exports: one per checkbox option."""
    if field.is_checkbox:
        return [(checkbox_export_name(field.name, c.code), c.code) for c in field.choices]
    return [(field.name, "")]


def build_odm(user, params: Params) -> ET.Element:
    version = current_dictionary_version()
    dictionary = version.dictionary
    title = version.project.get("title", "Registry")
    study_oid = "Project.Registry"
    mdv_oid = f"Metadata.Registry_v{version.number}"
    repeating = set(version.repeating_instruments)
    now = timezone.now().replace(microsecond=0).isoformat()
    odm = ET.Element(
        "ODM",
        {
            "xmlns": ODM_NS,
            "ODMVersion": "1.3.2",
            "FileType": "Snapshot",
            "FileOID": f"Registry.dictionary_v{version.number}.{now}",
            "CreationDateTime": now,
            "SourceSystem": "GI-LMS Registry (REDCap-compatible)",
            "SourceSystemVersion": REDCAP_VERSION,
        },
    )
    study = _sub(odm, "Study", OID=study_oid)
    globals_ = _sub(study, "GlobalVariables")
    _sub(globals_, "StudyName", title)
    _sub(globals_, "StudyDescription", f"{title}: data dictionary version {version.number}")
    _sub(globals_, "ProtocolName", title)
    mdv = _sub(study, "MetaDataVersion", OID=mdv_oid, Name=f"{title} v{version.number}")
    protocol = _sub(mdv, "Protocol")
    _sub(protocol, "StudyEventRef", StudyEventOID=EVENT_OID, OrderNumber="1", Mandatory="No")
    event = _sub(mdv, "StudyEventDef", OID=EVENT_OID, Name="Event 1", Repeating="No")
    event.set("Type", "Common")
    for order, form in enumerate(dictionary.form_names, start=1):
        _sub(event, "FormRef", FormOID=f"Form.{form}", OrderNumber=str(order), Mandatory="No")
    for form, label in dictionary.forms:
        form_def = _sub(
            mdv, "FormDef", OID=f"Form.{form}", Name=label, Repeating=_yes(form in repeating)
        )
        _sub(form_def, "ItemGroupRef", ItemGroupOID=f"{form}.group", Mandatory="No")
    for form, label in dictionary.forms:
        group = _sub(
            mdv, "ItemGroupDef", OID=f"{form}.group", Name=label, Repeating=_yes(form in repeating)
        )
        for field in dictionary.fields_of(form):
            if field.has_data:
                for oid, _code in _item_oids(field):
                    _sub(group, "ItemRef", ItemOID=oid, Mandatory=_yes(field.required))
        _sub(group, "ItemRef", ItemOID=f"{form}_complete", Mandatory="No")
    code_lists = []
    for field in dictionary.fields:
        if not field.has_data:
            continue
        for oid, code in _item_oids(field):
            item = _sub(mdv, "ItemDef", OID=oid, Name=oid)
            item.set("DataType", "boolean" if code else _data_type(field))
            label = field.label + (f" (choice={field.choice_map[code]})" if code else "")
            _translated(item, "Question", label or field.name)
            if field.choices and not code:
                _sub(item, "CodeListRef", CodeListOID=f"{field.name}.choices")
                code_lists.append(field)
    for form in dictionary.form_names:
        item = _sub(mdv, "ItemDef", OID=f"{form}_complete", Name=f"{form}_complete")
        item.set("DataType", "text")
        _translated(item, "Question", "Complete?")
        _sub(item, "CodeListRef", CodeListOID=FORM_STATUS_OID)
    for field in code_lists:
        code_list = _sub(mdv, "CodeList", OID=f"{field.name}.choices", Name=field.name)
        code_list.set("DataType", "text")
        for choice in field.choices:
            item = _sub(code_list, "CodeListItem", CodedValue=choice.code)
            _translated(item, "Decode", choice.label)
    statuses = _sub(mdv, "CodeList", OID=FORM_STATUS_OID, Name="form_status")
    statuses.set("DataType", "text")
    for code, label in FORM_STATUSES:
        _translated(_sub(statuses, "CodeListItem", CodedValue=code), "Decode", label)
    if not params.flag("returnMetadataOnly"):
        _clinical_data(odm, user, params, version, study_oid, mdv_oid)
    return odm


def _yes(flag: bool) -> str:
    return "Yes" if flag else "No"


def _clinical_data(odm, user, params: Params, version, study_oid: str, mdv_oid: str) -> None:
    dictionary = version.dictionary
    options = export_options(params)
    matcher = RowBuilder(version, options)
    clinical = _sub(odm, "ClinicalData", StudyOID=study_oid, MetaDataVersionOID=mdv_oid)
    order = {form: i for i, form in enumerate(dictionary.form_names)}
    record_field = dictionary.record_id_field.name
    records = export_records(user, locked_only=False, records=options.records)
    for bundle in iter_bundles(records):
        if not matcher.matches(bundle):
            continue
        subject = _sub(clinical, "SubjectData", SubjectKey=bundle.record_id)
        event = _sub(subject, "StudyEventData", StudyEventOID=EVENT_OID)
        for form, instance, status, data in sorted(
            bundle.rows, key=lambda r: (order.get(r[0], 99), r[1])
        ):
            form_data = _sub(event, "FormData", FormOID=f"Form.{form}")
            form_data.set("FormRepeatKey", str(instance))
            group = _sub(form_data, "ItemGroupData", ItemGroupOID=f"{form}.group")
            group.set("ItemGroupRepeatKey", str(instance))
            values = dict(data)
            if form == dictionary.record_id_field.form:
                values[record_field] = bundle.record_id
            for field in dictionary.fields_of(form):
                if not field.has_data:
                    continue
                value = values.get(field.name)
                if field.is_checkbox:
                    checked = set(value or [])
                    for oid, code in _item_oids(field):
                        _sub(group, "ItemData", ItemOID=oid, Value="1" if code in checked else "0")
                elif value not in (None, "", []):
                    _sub(group, "ItemData", ItemOID=field.name, Value=str(value))
            _sub(group, "ItemData", ItemOID=f"{form}_complete", Value=str(status))


def project_xml(user, params: Params, fmt: str, return_fmt: str) -> HttpResponse:
    odm = build_odm(user, params)
    ET.indent(odm)
    body = ET.tostring(odm, encoding="unicode", xml_declaration=False)
    return HttpResponse(
        '<?xml version="1.0" encoding="UTF-8" ?>\n' + body, content_type=CONTENT_TYPES["xml"]
    )
