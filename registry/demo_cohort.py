"""The SYNTHETIC demo cohort, as data: the published study's 33 patients (locked), built so that the
dashboard's own methods reproduce every figure of the abstract, then a few workflow records
(not locked, so not in the figures). No real patient. Deterministic.

Every course is written out below, in months (days = round(months x 30.4375), as the analysis
converts them back). The figures follow from these durations, not from a search:

* 22 localized and operated (LOCALIZED). Overall survival from diagnosis: 5 deaths and 4
  patients alive with shorter follow-up before 60 months give S(60) = 0.731 (73 %); one death at
  96.5 months with 8 at risk, then one at 193.0 with 4 at risk take S from 0.639 to 0.480, so
  the median is 193. Reverse Kaplan-Meier (follow-up): the fifth patient alive after 60 months
  brings it from 0.560 to 0.498, at 72.1 months. Disease-free survival from surgery: 7 relapses
  before the first censoring (24.5), 3 before the second (37.6), the next at 42.0 takes S from
  0.536 to 0.482. Relapses: 10 local (5 salvage surgeries, 2 NED after), 4 distant; (neo)adjuvant
  chemotherapy 6 + 7, of whom 2 never relapsed.
* 11 metastatic at diagnosis (METASTATIC): the sixth death, with no censoring before it, is at
  499 days = 16.39 months (S from 6/11 to 5/11).
* Small bowel (intestine) is the most common site of origin (14 of 33).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

DATA_CUTOFF = date(2022, 12, 31)  # every last contact is on or before it; the alive in late 2022
OESOPHAGUS, STOMACH, SMALL_BOWEL, COLON, RECTUM = "1", "2", "3", "4", "5"
CR, PR, SD, PD = "1", "2", "3", "4"
DOXO, DOXO_IFO, DOXO_DTIC, GEM_DOC, TRABECTEDIN, ERIBULIN, PAZOPANIB = "1234567"


@dataclass(frozen=True)
class Line:
    """One line of treatment for advanced disease."""

    regimen: str
    response: str  # RECIST best response
    progression: float | None  # months from the line's start; None: no progression seen
    delay: float = 1.0  # months from the event it answers (relapse, progression) to its start


@dataclass(frozen=True)
class Localized:
    dx: date
    site: str
    followup: float  # months from diagnosis to the last contact (the death, if died)
    died: bool = False
    chemo: str = ""  # "neo" | "adj"
    relapse: float | None = None  # months from surgery to the first relapse
    distant_first: bool = False  # the first relapse is distant (else local)
    salvage: str = ""  # "ned" | "residual": salvage surgery of the local relapse
    distant: float | None = None  # months from surgery to a later distant relapse
    lines: tuple[Line, ...] = ()
    cause: str = "1"  # of death: GI-LMS


@dataclass(frozen=True)
class Metastatic:
    dx: date
    site: str
    followup: float
    died: bool
    lines: tuple[Line, ...]


L, M = Localized, Metastatic
# fmt: off
# L(diagnosis, site, months to last contact or death, ...): in order of that time.
LOCALIZED = [
    L(date(2020, 10, 11), SMALL_BOWEL, 25.3),
    L(date(2008, 5, 14), STOMACH, 27.6, died=True, chemo="neo", relapse=9.0, distant_first=True,
      lines=(Line(GEM_DOC, PD, 2.0), Line(TRABECTEDIN, SD, 5.5, 0.5))),
    L(date(2020, 4, 16), SMALL_BOWEL, 31.9, chemo="adj", relapse=12.3, distant_first=True,
      lines=(Line(GEM_DOC, PR, 9.0), Line(TRABECTEDIN, SD, None, 0.5))),
    L(date(2019, 8, 7), COLON, 38.4),
    L(date(2011, 2, 3), SMALL_BOWEL, 41.2, died=True, chemo="adj", relapse=14.5, distant=26.0,
      lines=(Line(GEM_DOC, SD, 4.5),)),
    L(date(2019, 1, 11), RECTUM, 46.7, relapse=18.7),
    L(date(2006, 9, 19), SMALL_BOWEL, 49.8, died=True, chemo="adj", relapse=6.2, distant_first=True,
      lines=(Line(TRABECTEDIN, SD, 9.0), Line(GEM_DOC, PR, 10.0, 0.5),
             Line(ERIBULIN, PD, 2.0, 0.5))),
    L(date(2013, 6, 10), STOMACH, 54.1, died=True, chemo="neo", relapse=21.0, salvage="residual",
      lines=(Line(GEM_DOC, SD, 5.0),)),
    L(date(2009, 11, 2), COLON, 57.3, died=True, chemo="adj", relapse=30.5, distant=38.0,
      lines=(Line(TRABECTEDIN, PD, 1.9),)),
    L(date(2017, 7, 6), SMALL_BOWEL, 62.4, chemo="neo", relapse=4.8, salvage="residual",
      lines=(Line(GEM_DOC, PR, 14.0), Line(TRABECTEDIN, SD, None, 0.5))),
    L(date(2017, 7, 23), STOMACH, 64.9, chemo="adj"),
    L(date(2017, 3, 26), SMALL_BOWEL, 67.3, chemo="adj", relapse=27.4),
    L(date(2017, 1, 30), COLON, 69.8, chemo="neo", relapse=35.0, distant_first=True,
      lines=(Line(TRABECTEDIN, SD, 11.0), Line(ERIBULIN, SD, None, 0.5))),
    L(date(2016, 10, 4), OESOPHAGUS, 72.1),
    L(date(2007, 3, 27), SMALL_BOWEL, 96.5, died=True, chemo="neo", relapse=47.5,
      salvage="residual", distant=70.0, lines=(Line(GEM_DOC, SD, 6.5),)),
    L(date(2014, 4, 22), RECTUM, 103.6, chemo="adj", relapse=42.0),
    L(date(2011, 11, 25), STOMACH, 131.2, chemo="neo"),
    L(date(2009, 9, 24), SMALL_BOWEL, 158.9, relapse=64.0, salvage="ned"),
    L(date(2004, 6, 8), COLON, 193.0, died=True, cause="3"),
    L(date(2006, 4, 24), SMALL_BOWEL, 198.7),
    L(date(2005, 6, 15), STOMACH, 207.4, relapse=88.0, salvage="ned"),
    L(date(2004, 12, 21), SMALL_BOWEL, 215.8),
]
# M(diagnosis, site, months to last contact or death, died, advanced lines)
METASTATIC = [
    M(date(2016, 2, 11), SMALL_BOWEL, 3.9, True, (Line(DOXO, PD, 1.9, 0.7),)),
    M(date(2010, 7, 20), STOMACH, 6.8, True,
      (Line(DOXO_IFO, PD, 2.0, 0.7), Line(GEM_DOC, PD, 1.9, 0.5))),
    M(date(2018, 5, 3), OESOPHAGUS, 9.1, True, (Line(DOXO_DTIC, SD, 4.6, 0.8),)),
    M(date(2007, 10, 15), COLON, 11.7, True,
      (Line(DOXO, PR, 6.8, 0.7), Line(TRABECTEDIN, PD, 2.1, 0.5))),
    M(date(2013, 1, 22), RECTUM, 14.0, True,
      (Line(DOXO_IFO, SD, 5.5, 0.7), Line(GEM_DOC, SD, 4.0, 0.5))),
    M(date(2015, 9, 8), SMALL_BOWEL, 16.4, True,
      (Line(DOXO_DTIC, PR, 8.1, 0.8), Line(TRABECTEDIN, SD, 4.2, 0.5))),
    M(date(2011, 12, 1), STOMACH, 19.8, True,
      (Line(DOXO, SD, 6.3, 0.8), Line(GEM_DOC, PR, 7.9, 0.5))),
    M(date(2019, 3, 14), SMALL_BOWEL, 24.6, True,
      (Line(DOXO_IFO, PR, 9.4, 0.7), Line(TRABECTEDIN, SD, 6.1, 0.5),
       Line(ERIBULIN, PD, 2.0, 0.5))),
    M(date(2020, 8, 28), OESOPHAGUS, 27.0, False,
      (Line(DOXO_DTIC, PR, 11.2, 0.8), Line(GEM_DOC, SD, None, 0.5))),
    M(date(2008, 4, 7), COLON, 31.2, True,
      (Line(DOXO, SD, 7.7, 0.7), Line(TRABECTEDIN, SD, 8.8, 0.5), Line(PAZOPANIB, PD, 2.3, 0.5))),
    M(date(2014, 6, 30), SMALL_BOWEL, 44.5, True,
      (Line(DOXO_DTIC, PR, 14.0, 0.8), Line(GEM_DOC, SD, 9.5, 0.5), Line(ERIBULIN, SD, 5.8, 0.5))),
]
# Not locked, so not in the figures: data entry still going on, a complete record awaiting its
# investigator's signature, and one held back by a monitor's open query.
IN_PROGRESS = [(date(2020, 2, 17), SMALL_BOWEL), (date(2019, 6, 3), STOMACH),
               (date(2020, 11, 9), COLON)]
AWAITING_SIGNATURE = L(date(2018, 9, 12), SMALL_BOWEL, 48.2)
OPEN_QUERY = L(date(2016, 5, 30), RECTUM, 70.4, chemo="adj", relapse=22.1)
QUESTION = (
    "diagnosis_pathology",
    "tumour_size_mm",
    "The pathology report gives a different size: please check the size entered.",
)
# fmt: on
