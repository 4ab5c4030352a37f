"""REDCap data dictionaries: parsing, every kind of bad dictionary, export, compatibility."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.dictionary import (
    COLUMNS,
    FIELD_TYPES,
    SQL_MESSAGE,
    VALIDATION_TYPES,
    Choice,
    Dictionary,
    DictionaryError,
    DictionaryInvalid,
    FieldDef,
    affected_records,
    check_project_settings,
    compare_dictionaries,
    dictionary_to_csv,
    gi_lms_dictionary,
    gi_lms_dictionary_csv,
    gi_lms_project,
    parse_dictionary_bytes,
    parse_dictionary_csv,
)

FIXTURES = Path(__file__).parent / "fixtures"
KEYS = (
    "name",
    "form",
    "section",
    "type",
    "label",
    "choices",
    "note",
    "validation",
    "min",
    "max",
    "identifier",
    "branching",
    "required",
    "align",
    "qnum",
    "matrix",
    "ranking",
    "annotation",
)


def kitchen_sink_csv() -> str:
    return (FIXTURES / "kitchen_sink_dictionary.csv").read_text("utf-8")


def render(rows: list[dict[str, str]], header: list[str] | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header or COLUMNS)
    for row in rows:
        writer.writerow([row.get(k, "") for k in KEYS])
    return out.getvalue()


def base_rows() -> list[dict[str, str]]:
    """A small valid dictionary; CSV rows 2..8."""
    return [
        {"name": "record_id", "form": "baseline", "type": "text", "label": "Record ID"},
        {
            "name": "age",
            "form": "baseline",
            "type": "text",
            "label": "Age",
            "validation": "integer",
            "min": "18",
            "max": "100",
        },
        {
            "name": "sex",
            "form": "baseline",
            "type": "radio",
            "label": "Sex",
            "choices": "1, Male | 2, Female",
        },
        {
            "name": "sites",
            "form": "baseline",
            "type": "checkbox",
            "label": "Sites",
            "choices": "1, Liver | 2, Lung | other, Other",
        },
        {
            "name": "age_months",
            "form": "outcome",
            "type": "calc",
            "label": "Age in months",
            "choices": "[age] * 12",
        },
        {
            "name": "dx_date",
            "form": "outcome",
            "type": "text",
            "label": "Diagnosis date",
            "validation": "date_dmy",
            "branching": "[sites(2)] = '1' or [sex] = '1'",
        },
        {"name": "comment", "form": "outcome", "type": "notes", "label": "Comment"},
    ]


def errors_of(text: str) -> list[DictionaryError]:
    with pytest.raises(DictionaryInvalid) as info:
        parse_dictionary_csv(text)
    return info.value.errors


def with_edit(row: int, **cells: str) -> str:
    rows = base_rows()
    rows[row - 2].update(cells)
    return render(rows)


# -- valid dictionaries --------------------------------------------------------------------


def test_base_dictionary_parses() -> None:
    d = parse_dictionary_csv(render(base_rows()))
    assert d.record_id_field.name == "record_id"
    assert d.forms == [("baseline", "Baseline"), ("outcome", "Outcome")]
    assert [f.name for f in d.fields_of("outcome")] == ["age_months", "dx_date", "comment"]
    assert d.field("sex").choices == (Choice("1", "Male"), Choice("2", "Female"))
    assert d.field("age_months").calculation == "[age] * 12"
    with pytest.raises(KeyError):
        d.field("nope")


def test_kitchen_sink_has_every_field_type_and_validation_type() -> None:
    d = parse_dictionary_csv(kitchen_sink_csv())
    assert {f.field_type for f in d.fields} == set(FIELD_TYPES)
    assert {f.validation for f in d.fields if f.field_type == "text" and f.validation} == set(
        VALIDATION_TYPES
    )
    assert len(VALIDATION_TYPES) == 36
    assert d.field("consent_signature").validation == "signature"
    assert d.field("pain_score").show_slider_number
    assert d.field("pain_score").slider_labels == ("No pain", "Moderate", "Worst imaginable")
    assert d.field("mood").slider_labels == ("Bad", "", "Good")
    # labels may contain commas; codes may be letters, underscores or negative numbers
    assert d.field("referral_source").choice_map["other_src"] == "Other, please specify"
    assert d.field("sex").choice_map["-1"] == "Prefer not to say"
    assert d.field("eligible").choice_map == {"1": "True", "0": "False"}
    assert d.field("consent_given").choice_map == {"1": "Yes", "0": "No"}
    assert d.field("intro").label.count("\n") == 1
    assert d.field("rank_cost").matrix_ranking and d.field("rank_cost").matrix_group == "priorities"


def test_field_properties_and_action_tags() -> None:
    d = parse_dictionary_csv(kitchen_sink_csv())
    version = d.field("consent_version")
    assert (version.default, version.hidden, version.readonly) == ("v2.1", True, True)
    assert d.field("best_time").default == "18:30"
    assert d.field("withdrawn").nomissing and d.field("withdrawn").default == "0"
    assert d.field("consent_date").today_default and d.field("consent_date").nomissing
    assert d.field("hr").force_minmax and not d.field("sbp").force_minmax
    # @HIDDEN-SURVEY and other unknown tags are ignored but kept in the raw annotation
    initials = d.field("participant_initials")
    assert not initials.hidden and initials.annotation == "@HIDDEN-SURVEY"
    assert d.field("withdrawal_date").annotation == "@CHARLIMIT=10 @UNKNOWN-TAG"
    assert d.field("dob").is_date and not d.field("dob").is_datetime
    assert d.field("visit_datetime").is_datetime and d.field("echo_datetime").is_datetime
    assert all(d.field(n).is_numeric for n in ("sbp", "temperature", "bmi", "pain_score"))
    assert not d.field("email").is_numeric
    assert d.field("screen_notes").is_free_text and d.field("ae_term").is_free_text
    assert not d.field("email").is_free_text and not d.field("sex").is_free_text
    assert d.field("mrn10").identifier and not d.field("sbp").identifier
    assert d.field("sbp").required


def test_export_field_names_expand_checkboxes_and_skip_descriptive() -> None:
    d = parse_dictionary_csv(kitchen_sink_csv())
    rows = d.export_field_names()
    names = [r["export_field_name"] for r in rows]
    assert "intro" not in names
    assert {
        "original_field_name": "ancestry",
        "choice_value": "W",
        "export_field_name": "ancestry___w",
    } in rows
    assert "current_meds___statin" in names and "current_meds" not in names
    assert {"original_field_name": "sbp", "choice_value": "", "export_field_name": "sbp"} in rows


# -- round trip ----------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["kitchen_sink", "gi_lms"])
def test_canonical_export_is_byte_equal(source: str) -> None:
    text = kitchen_sink_csv() if source == "kitchen_sink" else gi_lms_dictionary_csv()
    d = parse_dictionary_csv(text)
    assert dictionary_to_csv(d) == text
    assert parse_dictionary_csv(dictionary_to_csv(d)) == d


def test_bom_crlf_and_loose_input_round_trip_to_the_same_dictionary() -> None:
    canonical = kitchen_sink_csv()
    d = parse_dictionary_csv(canonical)
    # Excel style: byte-order mark, CRLF everywhere (also inside the multi-line label)
    excel = "\ufeff" + canonical.replace("\n", "\r\n")
    assert parse_dictionary_csv(excel) == d
    # every cell quoted, spaces around codes, choices without spaces around '|'
    rows = list(csv.reader(io.StringIO(canonical)))
    for row in rows[1:]:
        row[0] = f" {row[0]} "
        if row[3] in ("radio", "dropdown", "checkbox"):
            row[5] = "|".join(part.strip() for part in row[5].split("|"))
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(rows)
    loose = parse_dictionary_csv(out.getvalue())
    assert loose == d
    assert dictionary_to_csv(loose) == canonical


def test_json_round_trip_uses_redcap_metadata_keys() -> None:
    d = parse_dictionary_csv(kitchen_sink_csv())
    data = d.to_json()
    assert data[0]["field_name"] == "study_id"
    assert data[0].keys() >= {
        "select_choices_or_calculations",
        "required_field",
        "text_validation_type_or_show_slider_number",
        "field_annotation",
    }
    assert Dictionary.from_json(data) == d
    assert Dictionary.from_json(data, validate=True) == d


def test_from_json_with_validate_reports_logic_problems() -> None:
    data = parse_dictionary_csv(render(base_rows())).to_json()
    data[5]["branching_logic"] = "[nope] = 1"
    Dictionary.from_json(data)  # stored versions are trusted
    with pytest.raises(DictionaryInvalid) as info:
        Dictionary.from_json(data, validate=True)
    assert (info.value.errors[0].row, info.value.errors[0].column) == (
        7,
        "Branching Logic (Show field only if...)",
    )


# Labels take line breaks and tabs; other control characters, NUL and U+FFFD are refused on
# upload (registry.hostile_input), so they are not part of the round trip.
_label = st.text(
    st.one_of(
        st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffd"),
        st.sampled_from("\n\t"),
    ),
    max_size=30,
)
_choice_label = st.text(
    st.characters(blacklist_categories=("Cs", "Zs", "Cc"), blacklist_characters="|\ufffd"),
    min_size=1,
    max_size=12,
)


@st.composite
def dictionaries(draw) -> Dictionary:
    n = draw(st.integers(1, 8))
    fields = [FieldDef(name="record_id", form="form_a", field_type="text", label="ID")]
    names = draw(
        st.lists(
            st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True),
            min_size=n,
            max_size=n,
            unique=True,
        )
    )
    for i, name in enumerate(n for n in names if n != "record_id"):
        ftype = draw(st.sampled_from(["text", "notes", "radio", "checkbox", "yesno", "slider"]))
        choices: tuple[Choice, ...] = ()
        if ftype in ("radio", "checkbox"):
            labels = draw(st.lists(_choice_label, min_size=1, max_size=4))
            choices = tuple(Choice(str(j), lab) for j, lab in enumerate(labels, start=1))
        elif ftype == "yesno":
            choices = (Choice("1", "Yes"), Choice("0", "No"))
        fields.append(
            FieldDef(
                name=name,
                form="form_a" if i < n // 2 else "form_b",
                field_type=ftype,
                label=draw(_label),
                note=draw(_label),
                section_header=draw(_label),
                annotation=draw(_label),
                choices=choices,
                slider_labels=("low", "", "high") if ftype == "slider" else (),
                required=draw(st.booleans()),
            )
        )
    return Dictionary(tuple(fields))


@settings(max_examples=60, deadline=None)
@given(dictionaries())
def test_round_trip_property(d: Dictionary) -> None:
    text = dictionary_to_csv(d)
    assert parse_dictionary_csv(text) == d
    assert dictionary_to_csv(parse_dictionary_csv(text)) == text


# -- the GI-LMS study dictionary -------------------------------------------------------------

ANALYTICS_NAMES = (
    "record_id sex year_of_birth age_at_dx date_dx site_of_origin stage_dx surgery_done "
    "surgery_date margins therapy_setting regimen therapy_start therapy_end relapse_date "
    "relapse_type salvage_surgery salvage_date status_after_salvage last_contact_date "
    "vital_status death_date disease_status_last followup_months"
).split()


def test_gi_lms_dictionary_has_the_names_analytics_uses() -> None:
    d = gi_lms_dictionary()
    assert set(ANALYTICS_NAMES) <= set(d.field_names)
    assert d.form_names == [
        "enrolment",
        "diagnosis_pathology",
        "stage",
        "primary_surgery",
        "systemic_therapy",
        "radiotherapy",
        "relapse",
        "follow_up",
    ]
    assert d.field("site_of_origin").choice_map == {
        "1": "Oesophagus",
        "2": "Stomach",
        "3": "Small bowel",
        "4": "Colon",
        "5": "Rectum",
        "6": "Other",
    }
    assert d.field("stage_dx").choice_map == {
        "1": "Localized",
        "2": "Locally advanced",
        "3": "Metastatic",
    }
    assert d.field("relapse_type").choice_map == {"1": "Local", "2": "Distant"}
    assert d.field("vital_status").choice_map == {"1": "Alive", "0": "Dead"}
    assert d.field("therapy_setting").choice_map == {
        "1": "Neoadjuvant",
        "2": "Adjuvant",
        "3": "Advanced/metastatic",
    }
    assert d.field("metastatic_sites").is_checkbox
    assert "[stage_dx] = '3'" in d.field("metastatic_sites").branching_logic
    assert d.field("mrn").identifier
    dates = [f for f in d.fields if f.is_date]
    assert dates and all(f.validation == "date_dmy" for f in dates)
    optional = {"therapy_end"}  # empty while treatment goes on
    for name in set(ANALYTICS_NAMES[1:]) - optional:
        assert d.field(name).required or d.field(name).field_type == "calc", name


def test_gi_lms_project_settings_match_the_dictionary() -> None:
    project = gi_lms_project()
    forms = gi_lms_dictionary().form_names
    assert project["repeating_instruments"] == ["systemic_therapy", "relapse"]
    assert set(project["repeating_instruments"]) <= set(forms)
    assert [c["code"] for c in project["missing_codes"]] == ["UNK", "NA", "ND", "NASK"]


def test_project_settings_are_checked_against_the_dictionary() -> None:
    assert check_project_settings(gi_lms_dictionary(), gi_lms_project()) == []
    d = parse_dictionary_csv(render(base_rows()))
    project = {
        "repeating_instruments": ["baseline", "outcome", "followup"],
        "missing_codes": [{"code": "other"}, {"code": "N A"}, {"code": "UNK"}, {"code": "UNK"}],
    }
    assert check_project_settings(d, project)[:5] == [
        "repeating instrument 'followup' is not a form of the dictionary",
        "the first form 'baseline' holds the record ID and cannot repeat",
        "missing-data code 'other' is also a choice code of sites",
        "missing-data code 'N A' must be letters, digits, '_', '.', '-'",
        "missing-data code 'UNK' is listed twice",
    ]
    project = {"repeating_instruments": ["outcome"]}
    rows = base_rows()
    rows[2]["branching"] = "[dx_date] <> ''"
    assert check_project_settings(_d(rows), project) == [
        "branching logic of 'sex' (form 'baseline') uses [dx_date] of repeating form 'outcome': "
        "the instance is ambiguous"
    ]


def test_gi_lms_calculations_evaluate() -> None:
    from registry.logic import calculate

    d = gi_lms_dictionary()
    values = {"year_of_birth": "1960", "date_dx": "2012-06-30", "last_contact_date": "2018-06-30"}
    assert calculate(d.field("age_at_dx").calculation, values) == "51"
    values["date_dx"] = "2012-07-01"
    assert calculate(d.field("age_at_dx").calculation, values) == "52"
    assert calculate(d.field("followup_months").calculation, values) == "71.9"  # 30.44-day months
    values["last_contact_date"] = "2010-01-01"  # before diagnosis: negative, not hidden
    assert calculate(d.field("followup_months").calculation, values).startswith("-")


# -- bad dictionaries: one case per kind, exact row and column ------------------------------

C = dict(zip(KEYS, COLUMNS, strict=True))

BAD = {
    "unknown field type": (with_edit(3, type="textt"), 3, "type", "unknown field type 'textt'"),
    "sql field type": (with_edit(3, type="sql", choices="select 1"), 3, "type", SQL_MESSAGE),
    "missing field type": (with_edit(3, type=""), 3, "type", "field type is missing"),
    "duplicate variable": (
        with_edit(8, name="age"),
        8,
        "name",
        "duplicate variable name 'age' (first used on row 3)",
    ),
    "upper-case variable": (with_edit(3, name="Age"), 3, "name", "invalid variable name 'Age'"),
    "variable starting with a digit": (
        with_edit(3, name="1age"),
        3,
        "name",
        "invalid variable name '1age'",
    ),
    "variable with a hyphen": (with_edit(3, name="age-y"), 3, "name", "invalid variable name"),
    "missing variable": (with_edit(3, name=""), 3, "name", "variable name is missing"),
    "invalid form name": (with_edit(3, form="Base line"), 3, "form", "invalid form name"),
    "record id not text": (
        with_edit(2, type="dropdown", choices="1, A"),
        2,
        "type",
        "the first field 'record_id' is the record ID and must be a text field, not dropdown",
    ),
    "forms not contiguous": (
        with_edit(7, form="baseline"),
        7,
        "form",
        "the fields of form 'baseline' are not together: it continues here after form 'outcome'",
    ),
    "dropdown without choices": (
        with_edit(4, type="dropdown", choices=""),
        4,
        "choices",
        "a dropdown field needs choices",
    ),
    "radio without choices": (
        with_edit(4, choices=" "),
        4,
        "choices",
        "a radio field needs choices",
    ),
    "checkbox without choices": (
        with_edit(5, choices="", branching=""),
        5,
        "choices",
        "a checkbox field needs choices",
    ),
    "choice without code": (
        with_edit(4, choices="1, Male | Female"),
        4,
        "choices",
        "choice 'Female' has no code",
    ),
    "duplicate choice code": (
        with_edit(4, choices="1, Male | 1, Female"),
        4,
        "choices",
        "duplicate choice code '1'",
    ),
    "empty choice": (
        with_edit(4, choices="1, Male || 2, Female"),
        4,
        "choices",
        "choice 2 is empty",
    ),
    "bad choice code": (
        with_edit(4, choices="1, Male | f m, Female"),
        4,
        "choices",
        "choice code 'f m' must be",
    ),
    "checkbox codes colliding on export": (
        with_edit(5, choices="a, A | A, Also A"),
        5,
        "choices",
        "both export as column 'sites___a'",
    ),
    "yesno with choices": (with_edit(4, type="yesno"), 4, "choices", "fixed choices"),
    "calc without calculation": (
        with_edit(6, choices=""),
        6,
        "choices",
        "a calc field needs a calculation",
    ),
    "unknown validation type": (
        with_edit(3, validation="int", min="", max=""),
        3,
        "validation",
        "unknown validation type 'int'",
    ),
    "validation on a radio": (
        with_edit(4, validation="integer"),
        4,
        "validation",
        "'integer' is not valid for a radio field",
    ),
    "integer min not an integer": (with_edit(3, min="18.5"), 3, "min", "'18.5' is not an integer"),
    "date max not Y-M-D": (
        with_edit(7, max="31-12-2020"),
        7,
        "max",
        "'31-12-2020' is not a date in the form YYYY-MM-DD",
    ),
    "comma in the min of a point-decimal number": (
        with_edit(3, validation="number", min="1,5"),
        3,
        "min",
        "'1,5' is not a number",
    ),
    "today on an integer": (
        with_edit(3, max="today"),
        3,
        "max",
        "'today' is only allowed for date and datetime validation",
    ),
    "min on email": (
        with_edit(3, validation="email", max=""),
        3,
        "min",
        "validation type 'email' does not take a minimum or maximum",
    ),
    "min without validation": (
        with_edit(3, validation=""),
        3,
        "min",
        "a minimum or maximum needs a validation type",
    ),
    "max below min": (
        with_edit(3, min="50", max="20"),
        3,
        "max",
        "maximum 20 is below the minimum 50",
    ),
    "min on a notes field": (with_edit(8, min="1"), 8, "min", "a notes field takes no minimum"),
    "slider bound not an integer": (
        with_edit(8, type="slider", min="0.5"),
        8,
        "min",
        "slider minimum and maximum must be integers",
    ),
    "branching does not parse": (
        with_edit(7, branching="[age] >"),
        7,
        "branching",
        "branching logic does not parse: unexpected end of expression at position 7",
    ),
    "branching unterminated string": (
        with_edit(7, branching="[sex] = '1"),
        7,
        "branching",
        "unterminated string at position 8",
    ),
    "branching names an unknown field": (
        with_edit(7, branching="[weight] > 3"),
        7,
        "branching",
        "refers to [weight], which is not a field",
    ),
    "calculation names an unknown field": (
        with_edit(6, choices="[agee] * 12"),
        6,
        "choices",
        "calculation refers to [agee]",
    ),
    "calculation does not parse": (
        with_edit(6, choices="[age] * * 12"),
        6,
        "choices",
        "calculation does not parse",
    ),
    "checkbox code on a radio": (
        with_edit(7, branching="[sex(1)] = '1'"),
        7,
        "branching",
        "refers to [sex(1)], but 'sex' is not a checkbox",
    ),
    "unknown checkbox code": (
        with_edit(7, branching="[sites(9)] = '1'"),
        7,
        "branching",
        "checkbox 'sites' has no option '9'",
    ),
    "checkbox without code": (
        with_edit(7, branching="[sites] = '1'"),
        7,
        "branching",
        "write [sites(code)]",
    ),
    "circular calculation": (
        render(
            [
                *base_rows(),
                {
                    "name": "age_years",
                    "form": "outcome",
                    "type": "calc",
                    "label": "x",
                    "choices": "[age_months] / 12",
                },
            ]
        ).replace("[age] * 12", "[age_years] * 12"),
        6,
        "choices",
        "circular calculation: age_months -> age_years -> age_months",
    ),
    "calculation using itself": (
        with_edit(6, choices="[age_months] + 1"),
        6,
        "choices",
        "circular calculation: age_months -> age_months",
    ),
    "identifier not y": (
        with_edit(3, identifier="yes"),
        3,
        "identifier",
        "must be 'y' or empty, not 'yes'",
    ),
    "required not y": (with_edit(3, required="Y"), 3, "required", "must be 'y' or empty, not 'Y'"),
    "bad alignment": (with_edit(4, align="center"), 4, "align", "custom alignment must be one"),
    "invalid @DEFAULT": (
        with_edit(4, annotation="@DEFAULT='3'"),
        4,
        "annotation",
        "@DEFAULT value is not valid for this field",
    ),
    "unquoted @DEFAULT": (
        with_edit(4, annotation="@DEFAULT=1"),
        4,
        "annotation",
        "@DEFAULT needs a quoted value",
    ),
    "matrix of text fields": (
        with_edit(3, matrix="grid"),
        3,
        "matrix",
        "a matrix holds radio or checkbox fields",
    ),
    "reserved variable name": (
        with_edit(3, name="redcap_event_name"),
        3,
        "name",
        "'redcap_event_name' is reserved by REDCap",
    ),
    "form status clash": (
        with_edit(3, name="outcome_complete"),
        3,
        "name",
        "clashes with the status field of form 'outcome'",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_dictionary_reports_row_and_column(case: str) -> None:
    text, row, key, message = BAD[case]
    errors = errors_of(text)
    matching = [e for e in errors if message in e.message]
    assert matching, f"{message!r} not in {errors}"
    assert (matching[0].row, matching[0].column) == (row, C[key])


def test_header_problems() -> None:
    wrong = list(COLUMNS)
    wrong[3] = "Type"
    errors = errors_of(render(base_rows(), header=wrong))
    assert [(e.row, e.column) for e in errors] == [(1, "Field Type")]
    assert "expected header 'Field Type', found 'Type'" in errors[0].message
    errors = errors_of(render(base_rows(), header=list(COLUMNS[:-1])))
    assert [(e.row, e.column, e.message) for e in errors] == [
        (1, "Field Annotation", "header column is missing")
    ]


def test_row_with_wrong_number_of_cells() -> None:
    text = render(base_rows()) + "weight,outcome,,text,Weight\n"
    errors = errors_of(text)
    assert [(e.row, e.column) for e in errors] == [(9, "Choices, Calculations, OR Slider Labels")]
    assert "row has 5 cells, expected 18" in errors[0].message


def test_uploaded_bytes_must_be_utf8() -> None:
    d = parse_dictionary_bytes(b"\xef\xbb\xbf" + render(base_rows()).encode())
    assert d == parse_dictionary_csv(render(base_rows()))
    latin1 = render([*base_rows()[:2], {**base_rows()[2], "label": "Sesso è"}]).encode("cp1252")
    with pytest.raises(DictionaryInvalid) as info:
        parse_dictionary_bytes(latin1)
    assert info.value.errors[0].row == 1
    assert "save it from Excel as 'CSV UTF-8" in info.value.errors[0].message


def test_piped_default_is_not_checked() -> None:
    d = parse_dictionary_csv(with_edit(7, annotation="@DEFAULT='[today]'"))
    assert d.field("dx_date").default == "[today]"


def test_empty_file_and_no_fields() -> None:
    assert errors_of("")[0].message == "the file is empty"
    assert errors_of(render([]))[0].message == "the dictionary has no fields"


def test_all_problems_are_collected_in_row_order_and_listed_in_str() -> None:
    rows = base_rows()
    rows[5]["type"] = "textt"  # row 7
    rows[1]["identifier"] = "n"  # row 3
    rows[2]["choices"] = ""  # row 4
    with pytest.raises(DictionaryInvalid) as info:
        parse_dictionary_csv(render(rows))
    errors = info.value.errors
    assert [(e.row, e.column) for e in errors] == [
        (3, "Identifier?"),
        (4, "Choices, Calculations, OR Slider Labels"),
        (7, "Field Type"),
    ]
    lines = str(info.value).splitlines()
    assert lines[-1] == "row 7, column 'Field Type': unknown field type 'textt'"
    assert lines[0] == "row 3, column 'Identifier?': must be 'y' or empty, not 'n'"


def test_blank_rows_are_skipped_but_counted() -> None:
    text = render(base_rows()).replace("\nage,", "\n,,,,,,,,,,,,,,,,,\nage,", 1)
    assert len(parse_dictionary_csv(text).fields) == 7
    errors = errors_of(
        text.replace(",textt,", ",x,").replace("\nsex,baseline,,radio", "\nsex,baseline,,radioo")
    )
    assert [(e.row, e.column) for e in errors] == [(5, "Field Type")]


# -- comparing versions ---------------------------------------------------------------------


def _d(rows: list[dict[str, str]]) -> Dictionary:
    return parse_dictionary_csv(render(rows))


def test_identical_and_harmless_changes_report_nothing() -> None:
    old = _d(base_rows())
    rows = base_rows()
    rows[1]["label"] = "Age (years)"  # relabel a field
    rows[1]["max"] = "120"  # widen a range
    rows[2]["choices"] = "1, Male | 2, Female | 3, Other"  # add a choice
    rows[2]["type"] = "dropdown"  # radio -> dropdown stores the same codes
    rows[5]["validation"] = "date_ymd"  # display format only: dates are stored ISO
    rows.append({"name": "new_field", "form": "outcome", "type": "text", "label": "New"})
    assert compare_dictionaries(old, _d(rows)) == []
    assert compare_dictionaries(old, old) == []


def test_changes_are_found_and_affected_records_listed() -> None:
    old = _d(base_rows())
    rows = base_rows()
    rows[1]["min"] = "21"  # range narrowed
    rows[2]["choices"] = "1, Female | 2, Male"  # swap: codes now mean the opposite
    rows[3]["choices"] = "1, Liver | 3, Lung"  # Lung recoded 2 -> 3, 'other' removed
    rows[4]["choices"] = "[age] * 12 + 1"  # calc changed
    rows[5]["branching"] = "[sites(3)] = '1'"
    rows[5]["validation"] = "integer"  # date -> integer
    del rows[6]  # comment removed
    changes = compare_dictionaries(old, _d(rows))
    summary = [(c.kind, c.field, c.code) for c in changes]
    assert summary == [
        ("range_changed", "age", ""),
        ("choices_recoded", "sex", "1"),
        ("choices_recoded", "sex", "2"),
        ("choices_recoded", "sites", "2"),
        ("choice_removed", "sites", "other"),
        ("calculation_changed", "age_months", ""),
        ("validation_changed", "dx_date", ""),
        ("field_removed", "comment", ""),
    ]
    assert changes[1].detail == "'Male' was code 1, is now 2, and 1 now means 'Female'"
    values = {
        "r1": {
            "age": "19",
            "sex": "1",
            "sites": ["2"],
            "age_months": "228",
            "dx_date": "2020-01-31",
        },
        "r2": {"age": "40", "sex": "", "sites": "other", "age_months": "", "comment": "x"},
        "r3": {
            "age": "UNK",
            "sex": "2",
            "sites___1": "1",
            "sites___2": "0",
            "sites___other": "1",
            "comment": "  ",
        },
    }
    affected = affected_records(changes, values, missing_codes=[{"code": "UNK", "label": "?"}])
    assert affected == {
        0: ["r1"],
        1: ["r1"],
        2: ["r3"],
        3: ["r1"],
        4: ["r2", "r3"],
        5: ["r1"],
        6: ["r1"],
        7: ["r2"],
    }


def test_type_changes_and_relabels() -> None:
    old = _d(base_rows())
    rows = base_rows()
    rows[1]["type"], rows[1]["choices"] = "dropdown", "18, Eighteen | 19, Nineteen"
    rows[1]["validation"] = rows[1]["min"] = rows[1]["max"] = ""
    rows[2]["choices"] = "1, Man | 2, Female"
    rows[3]["type"] = "radio"
    rows[3]["choices"] = "1, Liver | 2, Lung"
    rows[5]["branching"] = "[sex] = '1'"
    rows[6]["form"] = "baseline"
    rows.insert(4, rows.pop(6))
    changes = compare_dictionaries(old, _d(rows))
    assert [(c.kind, c.field) for c in changes] == [
        ("type_changed", "age"),
        ("choice_relabelled", "sex"),
        ("type_changed", "sites"),
        ("form_changed", "comment"),
    ]
    values = {1: {"age": "18", "sex": "1", "sites": ["1"]}, 2: {"age": "40", "comment": "hi"}}
    assert affected_records(changes, values) == {0: [2], 1: [1], 2: [1], 3: [2]}


def test_rename_hint_force_minmax_and_nomissing() -> None:
    old = _d(base_rows())
    rows = base_rows()
    rows[1]["annotation"] = "@FORCE-MINMAX @NOMISSING"
    rows[6]["name"] = "remarks"
    changes = compare_dictionaries(old, _d(rows))
    assert [(c.kind, c.field) for c in changes] == [
        ("range_changed", "age"),
        ("missing_codes_refused", "age"),
        ("field_removed", "comment"),
    ]
    assert "renamed to 'remarks'?" in changes[2].detail
    values = {"a": {"age": "101"}, "b": {"age": "UNK"}, "c": {"age": "50"}}
    assert affected_records(changes, values, missing_codes=["UNK"]) == {0: ["a"], 1: ["b"], 2: []}
    assert changes[0].to_json()["kind"] == "range_changed"


def test_record_id_rename_affects_every_record() -> None:
    old = _d(base_rows())
    rows = base_rows()
    rows[0]["name"] = "patient_id"
    changes = compare_dictionaries(old, _d(rows))
    assert [(c.kind, c.field) for c in changes] == [("record_id_renamed", "record_id")]
    assert affected_records(changes, {"1": {}, "2": {"age": "30"}}) == {0: ["1", "2"]}
