"""Value validation: every REDCap validation type, choices, min/max, dates, missing codes."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.dictionary import (
    VALIDATION_TYPES,
    Choice,
    FieldDef,
    FieldValueError,
    ValidationResult,
    validate_value,
)

TODAY = date(2024, 5, 15)
NOW = datetime(2024, 5, 15, 10, 30)

# type -> (good values as (typed, stored), bad values)
TABLE: dict[str, tuple[list[tuple[str, str]], list[str]]] = {
    "date_ymd": (
        [
            ("2020-12-31", "2020-12-31"),
            ("2020-1-5", "2020-01-05"),
            ("2020/12/31", "2020-12-31"),
            (" 2024-02-29 ", "2024-02-29"),
        ],
        ["31-12-2020", "2020-13-01", "2023-02-29", "20-12-31", "today", "2020-12-31x"],
    ),
    "date_mdy": (
        [
            ("12-31-2020", "2020-12-31"),
            ("12/31/2020", "2020-12-31"),
            ("2020-12-31", "2020-12-31"),
            ("1/5/2020", "2020-01-05"),
        ],
        ["31-12-2020", "12-31-20", "02/30/2020"],
    ),
    "date_dmy": (
        [
            ("31-12-2020", "2020-12-31"),
            ("31/12/2020", "2020-12-31"),
            ("31.12.2020", "2020-12-31"),
            ("2020-12-31", "2020-12-31"),
            ("5/1/2020", "2020-01-05"),
        ],
        ["12-31-2020", "31-12-20", "31122020", ""],
    ),
    "datetime_ymd": (
        [("2020-12-31 14:30", "2020-12-31 14:30"), ("2020-12-31T9:05", "2020-12-31 09:05")],
        ["2020-12-31", "2020-12-31 14:30:00", "2020-12-31 24:00", "31-12-2020 14:30"],
    ),
    "datetime_mdy": (
        [("12-31-2020 14:30", "2020-12-31 14:30"), ("2020-12-31 14:30", "2020-12-31 14:30")],
        ["31-12-2020 14:30", "12-31-2020 14:60"],
    ),
    "datetime_dmy": (
        [("31/12/2020 14:30", "2020-12-31 14:30"), ("31-12-2020 00:00", "2020-12-31 00:00")],
        ["12/31/2020 14:30", "31/12/2020", "31/12/2020 2:30 PM"],
    ),
    "datetime_seconds_ymd": (
        [("2020-12-31 14:30:05", "2020-12-31 14:30:05")],
        ["2020-12-31 14:30", "2020-12-31 14:30:60"],
    ),
    "datetime_seconds_mdy": (
        [("12-31-2020 14:30:05", "2020-12-31 14:30:05")],
        ["31-12-2020 14:30:05", "12-31-2020 14:30"],
    ),
    "datetime_seconds_dmy": (
        [
            ("31-12-2020 14:30:05", "2020-12-31 14:30:05"),
            ("2020-12-31 23:59:59", "2020-12-31 23:59:59"),
        ],
        ["12-31-2020 14:30:05", "31-12-2020"],
    ),
    "time": (
        [("14:30", "14:30"), ("9:05", "09:05"), ("00:00", "00:00"), ("23:59", "23:59")],
        ["24:00", "14:30:00", "1430", "12:60", "2:30 PM"],
    ),
    "time_hh_mm_ss": (
        [("14:30:05", "14:30:05"), ("9:05:00", "09:05:00")],
        ["14:30", "25:00:00", "14:30:61"],
    ),
    "time_mm_ss": (
        [("04:30", "04:30"), ("59:59", "59:59"), ("0:05", "00:05")],
        ["60:00", "04:60", "01:04:30"],
    ),
    "integer": (
        [("42", "42"), ("-7", "-7"), ("+7", "7"), ("007", "7"), ("0", "0"), ("-0", "0")],
        ["4.2", "4,2", "1e3", "forty", "--1", "1 000"],
    ),
    "number": (
        [
            ("3.14", "3.14"),
            ("-0.5", "-0.5"),
            (".5", "0.5"),
            ("42", "42"),
            ("+1.50", "1.50"),
            ("007.5", "7.5"),
        ],
        ["3,14", "1.2.3", "1e5", "abc", ".", "-", "5."],
    ),
    "number_1dp": ([("1.5", "1.5"), ("-0.1", "-0.1"), (".5", "0.5")], ["1", "1.55", "1,5"]),
    "number_2dp": ([("1.55", "1.55"), ("100.00", "100.00")], ["1.5", "1.555", "1,55"]),
    "number_3dp": ([("1.555", "1.555")], ["1.55", "1.5555"]),
    "number_4dp": ([("1.5555", "1.5555"), ("-0.0001", "-0.0001")], ["1.555", "1.55555"]),
    "number_comma_decimal": (
        [("3,14", "3,14"), ("42", "42"), ("-0,5", "-0,5"), (",5", "0,5")],
        ["3.14", "1,2,3", "abc"],
    ),
    "number_1dp_comma_decimal": ([("36,6", "36,6")], ["36.6", "36", "36,66"]),
    "number_2dp_comma_decimal": ([("1,55", "1,55")], ["1.55", "1,5"]),
    "number_3dp_comma_decimal": ([("1,555", "1,555")], ["1.555", "1,55"]),
    "number_4dp_comma_decimal": ([("1,5555", "1,5555")], ["1.5555", "1,555"]),
    "alpha_only": ([("abc", "abc"), ("ABCdef", "ABCdef")], ["ab1", "a b", "é", "a-b"]),
    "email": (
        [
            ("name@example.org", "name@example.org"),
            ("a.b+c@sub.example.co.uk", "a.b+c@sub.example.co.uk"),
        ],
        ["name@", "name@example", "name example@x.org", "a..b@example.org", "@x.org"],
    ),
    "phone": (
        [
            ("(615) 322-5000", "(615) 322-5000"),
            ("615-322-5000", "(615) 322-5000"),
            ("6153225000", "(615) 322-5000"),
            ("615.322.5000 x123", "(615) 322-5000 x123"),
        ],
        ["015-322-5000", "615-122-5000", "911-322-5000", "322-5000", "+39 06 1234567"],
    ),
    "phone_australia": (
        [("(02) 9876 5432", "(02) 9876 5432"), ("0298765432", "0298765432")],
        ["(01) 9876 5432", "9876 5432", "02 987 65432 1"],
    ),
    "postalcode_australia": ([("2000", "2000")], ["200", "20000", "abcd"]),
    "postalcode_canada": (
        [("K1A 0B1", "K1A 0B1"), ("k1a0b1", "K1A 0B1")],
        ["D1A 0B1", "K1A 0B", "12345"],
    ),
    "postalcode_french": (
        [("75013", "75013"), ("01000", "01000"), ("98000", "98000")],
        ["7501", "00100", "99000", "750130"],
    ),
    "postalcode_germany": ([("10115", "10115"), ("01067", "01067")], ["00123", "1011", "101155"]),
    "ssn": ([("123-45-6789", "123-45-6789")], ["123456789", "12-345-6789"]),
    "vmrn": ([("1234", "1234"), ("123456789", "123456789")], ["123", "1234567890", "12a4"]),
    "zipcode": ([("37203", "37203"), ("37203-1234", "37203-1234")], ["3720", "37203-12", "ABCDE"]),
    "mrn_10d": ([("0123456789", "0123456789")], ["123456789", "01234567890", "012345678a"]),
    "mrn_generic": ([("AB-1234_x", "AB-1234_x"), ("12345", "12345")], ["AB 1234", "AB/1234"]),
}


def text_field(validation: str = "", **kw: object) -> FieldDef:
    return FieldDef(name="f", form="form", field_type="text", validation=validation, **kw)


def test_table_covers_every_validation_type() -> None:
    assert set(TABLE) == set(VALIDATION_TYPES)


GOOD = [(t, raw, stored) for t, (good, _) in TABLE.items() for raw, stored in good]
BAD = [(t, raw) for t, (_, bad) in TABLE.items() for raw in bad if raw]


@pytest.mark.parametrize(("vtype", "raw", "stored"), GOOD)
def test_good_values_are_normalised(vtype: str, raw: str, stored: str) -> None:
    result = validate_value(text_field(vtype), raw, today=TODAY, now=NOW)
    assert result == ValidationResult(stored, None)
    # storing is idempotent: the stored form validates to itself
    assert validate_value(text_field(vtype), stored).value == stored


@pytest.mark.parametrize(("vtype", "raw"), BAD)
def test_bad_values_are_refused(vtype: str, raw: str) -> None:
    with pytest.raises(FieldValueError) as info:
        validate_value(text_field(vtype), raw)
    assert info.value.message


def test_messages_help_the_person_typing() -> None:
    with pytest.raises(FieldValueError, match="use a comma as the decimal separator"):
        validate_value(text_field("number_comma_decimal"), "3.5")
    with pytest.raises(FieldValueError, match="use a point as the decimal separator"):
        validate_value(text_field("number"), "3,5")
    with pytest.raises(FieldValueError, match="exactly 2 decimal places, e.g. 1.55"):
        validate_value(text_field("number_2dp"), "3.5")
    with pytest.raises(FieldValueError, match="expected dd/mm/yyyy or yyyy-mm-dd"):
        validate_value(text_field("date_dmy"), "yesterday")
    with pytest.raises(FieldValueError, match="not a real calendar date"):
        validate_value(text_field("date_dmy"), "31/02/2020")


@pytest.mark.parametrize(
    ("vtype", "raw"),
    [
        ("integer", "\u0663"),
        ("number", "\uff11.5"),
        ("date_ymd", "\uff12020-01-01"),
        ("mrn_10d", "\u0660" * 10),
        ("time", "\u0661:00"),
    ],
)
def test_digits_of_other_scripts_are_refused(vtype: str, raw: str) -> None:
    with pytest.raises(FieldValueError):
        validate_value(text_field(vtype), raw)


def test_empty_value_is_accepted_for_any_field() -> None:
    for vtype in VALIDATION_TYPES:
        assert validate_value(text_field(vtype), "  ") == ValidationResult("")
    assert validate_value(text_field("integer"), None).value == ""


# -- date input orders ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vtype", "order", "raw", "stored"),
    [
        ("date_ymd", "dmy", "31/12/2020", "2020-12-31"),  # Italian coordinator, Y-M-D field
        ("date_mdy", "dmy", "05/03/2020", "2020-03-05"),  # the user's order wins over the field's
        ("date_dmy", "mdy", "05/03/2020", "2020-05-03"),
        ("date_dmy", "ymd", "05/03/2020", "2020-03-05"),  # no D-M-Y/M-D-Y preference: field order
        ("date_mdy", "dmy", "2020-03-05", "2020-03-05"),  # ISO is always ISO
        ("datetime_ymd", "dmy", "31/12/2020 08:15", "2020-12-31 08:15"),
        ("datetime_seconds_mdy", "dmy", "31/12/2020 08:15:01", "2020-12-31 08:15:01"),
    ],
)
def test_input_date_order(vtype: str, order: str, raw: str, stored: str) -> None:
    assert validate_value(text_field(vtype), raw, input_date_order=order).value == stored


def test_ymd_field_refuses_day_first_without_an_input_order() -> None:
    with pytest.raises(FieldValueError, match="expected YYYY-MM-DD"):
        validate_value(text_field("date_ymd"), "31/12/2020")
    with pytest.raises(FieldValueError):
        validate_value(text_field("date_mdy"), "31/12/2020", input_date_order="mdy")


@given(
    st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31)),
    st.sampled_from(["ymd", "mdy", "dmy"]),
    st.sampled_from(["-", "/", "."]),
)
def test_any_date_typed_in_the_field_order_is_stored_iso(day: date, order: str, sep: str) -> None:
    parts = {"y": f"{day.year:04d}", "m": f"{day.month:02d}", "d": f"{day.day:02d}"}
    typed = sep.join(parts[c] for c in order)
    assert validate_value(text_field(f"date_{order}"), typed).value == day.isoformat()


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=2, min_value=-(10**6), max_value=10**6
    )
)
def test_number_2dp_round_trips(value) -> None:
    typed = f"{value:.2f}"
    stored = validate_value(text_field("number_2dp"), typed).value
    assert float(stored) == float(typed)
    comma = validate_value(text_field("number_2dp_comma_decimal"), typed.replace(".", ","))
    assert comma.value == stored.replace(".", ",")


# -- min / max ------------------------------------------------------------------------------


def test_out_of_range_is_a_soft_warning() -> None:
    field = text_field("integer", validation_min="18", validation_max="100")
    assert validate_value(field, "50").warning is None
    result = validate_value(field, "17")
    assert result == ValidationResult("17", "17 is below the minimum 18")
    assert validate_value(field, "101").warning == "101 is above the maximum 100"


def test_force_minmax_makes_it_a_hard_error() -> None:
    field = text_field(
        "integer", validation_min="18", validation_max="100", annotation="@FORCE-MINMAX"
    )
    assert validate_value(field, "18").warning is None
    with pytest.raises(FieldValueError, match=r"101 is above the maximum 100.*@FORCE-MINMAX"):
        validate_value(field, "101")


@pytest.mark.parametrize(
    ("vtype", "vmin", "vmax", "inside", "below", "above"),
    [
        ("date_dmy", "2004-01-01", "2020-12-31", "31/12/2020", "31/12/2003", "01/01/2021"),
        (
            "datetime_ymd",
            "2020-01-01 08:00",
            "2020-01-01 18:00",
            "2020-01-01 18:00",
            "2020-01-01 07:59",
            "2020-01-01 18:01",
        ),
        (
            "datetime_seconds_dmy",
            "2020-01-01 08:00:00",
            "2020-01-01 18:00:00",
            "01-01-2020 08:00:00",
            "01-01-2020 07:59:59",
            "01-01-2020 18:00:01",
        ),
        ("time", "08:00", "18:00", "12:00", "07:59", "18:01"),
        ("time_hh_mm_ss", "08:00:00", "18:00:00", "08:00:00", "07:59:59", "18:00:01"),
        ("time_mm_ss", "01:00", "30:00", "29:59", "00:59", "30:01"),
        ("number", "-1.5", "1.5", "1.50", "-1.51", "1.6"),
        ("number_1dp_comma_decimal", "34,0", "42,0", "36,6", "33,9", "42,1"),
        ("number_2dp_comma_decimal", "0.5", "1", "0,50", "0,49", "1,01"),
    ],
)
def test_min_max_for_each_kind(vtype, vmin, vmax, inside, below, above) -> None:
    field = text_field(vtype, validation_min=vmin, validation_max=vmax)
    assert validate_value(field, inside).warning is None
    assert "minimum" in validate_value(field, below).warning
    assert "maximum" in validate_value(field, above).warning


def test_today_and_now_bounds() -> None:
    past = text_field("date_dmy", validation_max="today")
    assert validate_value(past, "15/05/2024", today=TODAY, now=NOW).warning is None
    assert validate_value(past, "16/05/2024", today=TODAY, now=NOW).warning == (
        "2024-05-16 is after the maximum today (2024-05-15)"
    )
    visit = text_field("datetime_dmy", validation_min="today", validation_max="now")
    assert validate_value(visit, "15/05/2024 00:00", today=TODAY, now=NOW).warning is None
    assert validate_value(visit, "15/05/2024 10:30", today=TODAY, now=NOW).warning is None
    assert (
        "after the maximum now"
        in validate_value(visit, "15/05/2024 10:31", today=TODAY, now=NOW).warning
    )
    assert (
        "before the minimum today"
        in validate_value(visit, "14/05/2024 23:59", today=TODAY, now=NOW).warning
    )
    seconds = text_field("datetime_seconds_ymd", validation_max="now")
    assert validate_value(seconds, "2024-05-15 10:30:00", now=NOW).warning is None
    assert validate_value(seconds, "2024-05-15 10:30:01", now=NOW).warning is not None
    # 'now' on a date field compares calendar days; the clock is used when not given
    assert (
        validate_value(
            text_field("date_ymd", validation_max="now"), "2024-05-15", today=TODAY, now=NOW
        ).warning
        is None
    )
    assert (
        validate_value(text_field("date_ymd", validation_max="today"), "1999-01-01").warning is None
    )


# -- choices, missing codes and the other field types --------------------------------------


RADIO = FieldDef(
    name="grade",
    form="f",
    field_type="radio",
    choices=(Choice("1", "G1"), Choice("2", "G2"), Choice("x_9", "Other")),
)
SITES = FieldDef(
    name="sites",
    form="f",
    field_type="checkbox",
    choices=(Choice("1", "Liver"), Choice("2", "Lung"), Choice("NA", "No site")),
)
YESNO = FieldDef(
    name="yn", form="f", field_type="yesno", choices=(Choice("1", "Yes"), Choice("0", "No"))
)
MISSING = [{"code": "UNK", "label": "Unknown"}, {"code": "NA", "label": "Not applicable"}]


def test_single_choice_must_be_a_code() -> None:
    assert validate_value(RADIO, " x_9 ").value == "x_9"
    assert validate_value(YESNO, "0").value == "0"
    for bad in ("3", "G1", "1,2", "yes"):
        with pytest.raises(FieldValueError, match="is not one of the choices"):
            validate_value(RADIO if bad != "yes" else YESNO, bad)
    with pytest.raises(FieldValueError, match="single value"):
        validate_value(RADIO, ["1"])


def test_checkbox_takes_a_list_of_codes() -> None:
    assert validate_value(SITES, ["2", "1", "2"]).value == ("1", "2")
    assert validate_value(SITES, "2, 1").value == ("1", "2")
    assert validate_value(SITES, []).value == ()
    assert validate_value(SITES, "").value == ()
    with pytest.raises(FieldValueError, match="has no option '3'"):
        validate_value(SITES, ["1", "3"])


def test_missing_codes() -> None:
    date_field = text_field("date_dmy")
    result = validate_value(date_field, "UNK", missing_codes=MISSING)
    assert (result.value, result.is_missing_code) == ("UNK", True)
    assert validate_value(RADIO, "UNK", missing_codes=["UNK"]).value == "UNK"
    assert validate_value(SITES, ["UNK"], missing_codes=MISSING).value == ("UNK",)
    # a real choice code wins over a missing code with the same spelling
    na = validate_value(SITES, ["NA"], missing_codes=MISSING)
    assert (na.value, na.is_missing_code) == (("NA",), False)
    with pytest.raises(FieldValueError):
        validate_value(date_field, "UNK")  # not a missing code of this project
    with pytest.raises(FieldValueError, match="@NOMISSING"):
        validate_value(
            text_field("date_dmy", annotation="@NOMISSING"), "UNK", missing_codes=MISSING
        )
    with pytest.raises(FieldValueError, match="@NOMISSING"):
        validate_value(
            FieldDef(
                name="s",
                form="f",
                field_type="checkbox",
                annotation="@NOMISSING",
                choices=(Choice("1", "A"),),
            ),
            ["UNK"],
            missing_codes=MISSING,
        )
    with pytest.raises(FieldValueError):
        validate_value(SITES, ["1", "UNK"], missing_codes=MISSING)  # not mixed with options


def test_other_field_types() -> None:
    notes = FieldDef(name="n", form="f", field_type="notes")
    assert validate_value(notes, "  line one\nline two ").value == "line one\nline two"
    assert validate_value(text_field(), "anything, at all").value == "anything, at all"
    slider = FieldDef(name="s", form="f", field_type="slider")
    assert validate_value(slider, "100").value == "100"
    with pytest.raises(FieldValueError, match="from 0 to 100"):
        validate_value(slider, "101")
    small = FieldDef(
        name="s", form="f", field_type="slider", validation_min="-5", validation_max="5"
    )
    assert validate_value(small, "-5").value == "-5"
    with pytest.raises(FieldValueError, match="from -5 to 5"):
        validate_value(small, "2.5")
    calc = FieldDef(name="c", form="f", field_type="calc", calculation="1+1")
    assert validate_value(calc, "2.50").value == "2.50"
    with pytest.raises(FieldValueError):
        validate_value(calc, "two")
    with pytest.raises(FieldValueError, match="descriptive"):
        validate_value(FieldDef(name="d", form="f", field_type="descriptive"), "x")
    upload = FieldDef(name="u", form="f", field_type="file", validation="signature")
    assert validate_value(upload, "doc:42").value == "doc:42"
