"""A save checks its POST without building the form (registry.forms.submission); it must accept
exactly what InstrumentForm accepts, with the same cleaned values, on any input."""

from __future__ import annotations

import pytest
from django.http import QueryDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.entry import entry_fields
from registry.forms.instrument import (
    MISSING_SUFFIX,
    REASON_FIELD,
    STATUS_FIELD,
    VERSION_FIELD,
    InstrumentForm,
)
from registry.forms.submission import InstrumentSubmission
from tests import factories

pytestmark = pytest.mark.django_db

INSTRUMENTS = ["enrolment", "diagnosis_pathology", "primary_surgery", "relapse", "follow_up"]


@pytest.fixture(scope="module")
def version(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return factories.gi_lms_dictionary()


def _value(f, draw) -> list[str]:
    codes = [c.code for c in f.choices]
    junk = st.sampled_from(["", " ", "x", "99", "-1", "1.5", "2010-02-30", "31/12/2019", "NA"])
    plausible = st.sampled_from(codes) if codes else st.text(max_size=6)
    if f.is_checkbox:
        return draw(st.lists(st.one_of(plausible, junk), max_size=3))
    if f.is_date:
        day = st.dates().map(lambda d: d.strftime("%d/%m/%Y"))
        return [draw(st.one_of(day, junk))]
    return [draw(st.one_of(plausible, junk, st.integers(-5, 500).map(str)))]


@st.composite
def posts(draw, version):
    dictionary = version.dictionary
    instrument = draw(st.sampled_from([i for i in INSTRUMENTS if i in dictionary.form_names]))
    data = QueryDict(mutable=True)
    for f in entry_fields(dictionary, instrument):
        if draw(st.booleans()):
            data.setlist(f.name, _value(f, draw))
        if draw(st.integers(0, 9)) == 0:
            data[f.name + MISSING_SUFFIX] = draw(st.sampled_from(["NA", "UNK", "zz", ""]))
    data[STATUS_FIELD] = draw(st.sampled_from(["0", "1", "2", "2", "0", "3", "", "x"]))
    data[VERSION_FIELD] = draw(st.sampled_from(["0", "4", " 7 ", "-1", "", "1.0", "z"]))
    if draw(st.booleans()):
        data[REASON_FIELD] = draw(st.sampled_from(["", "  typo fixed ", "x"]))
    return instrument, data


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_the_submission_accepts_what_the_form_accepts_with_the_same_values(version, data):
    instrument, post = data.draw(posts(version))
    kwargs = dict(
        dictionary=version.dictionary,
        instrument=instrument,
        context={"date_dx": "2012-05-01"},
        missing_codes=version.missing_codes,
        stored={},
        date_order=data.draw(st.sampled_from(["dmy", "mdy", "ymd"])),
    )
    form = InstrumentForm(post, **kwargs)
    submission = InstrumentSubmission(post, **kwargs)
    assert submission.is_valid() == form.is_valid(), form.errors
    if form.is_valid():
        assert submission.cleaned_instrument == form.cleaned_instrument
        for name in (STATUS_FIELD, VERSION_FIELD, REASON_FIELD):
            assert submission.cleaned_data[name] == form.cleaned_data[name]


def test_read_only_forms_always_take_the_whole_form(version):
    post = QueryDict(mutable=True)
    post.update({STATUS_FIELD: "0", VERSION_FIELD: "0"})
    kwargs = dict(
        dictionary=version.dictionary, instrument="enrolment", context={}, missing_codes=[]
    )
    assert InstrumentSubmission(post, **kwargs).is_valid()
    assert not InstrumentSubmission(post, **kwargs, readonly=True).is_valid()


def test_a_common_save_is_checked_without_the_form_and_gives_the_forms_values(version):
    post = QueryDict(mutable=True)
    post.update(
        {
            STATUS_FIELD: "2",
            VERSION_FIELD: "3",
            "date_dx": "04/03/2010",
            "site_of_origin": "3",
            "tumour_size_mm": "45",
            "fnclcc_grade": "3",
            "mitotic_count": "12",
            "kit_cd117": "2",
            "path_review_confirmed": "1",
            "path_review_date": "01/04/2010",
        }
    )
    kwargs = dict(
        dictionary=version.dictionary,
        instrument="diagnosis_pathology",
        context={},
        missing_codes=version.missing_codes,
    )
    form, submission = InstrumentForm(post, **kwargs), InstrumentSubmission(post, **kwargs)
    assert form.is_valid(), form.errors
    assert submission.is_valid()
    assert submission.cleaned_instrument == form.cleaned_instrument
    assert submission.cleaned_instrument.data["date_dx"] == "2010-03-04"
    assert submission.cleaned_data[STATUS_FIELD] == 2
