"""Dictionary -> REDCap data dictionary CSV.

The export is canonical: UTF-8 without a byte-order mark, LF line endings (also inside
multi-line cells), cells quoted only when needed (csv.QUOTE_MINIMAL), choices written
``code, label | code, label`` and slider labels ``left | middle | right``. REDCap reads it
as it is; exporting a dictionary parsed from a canonical file gives back the same bytes.
"""

from __future__ import annotations

import csv
import io

from registry import csv_safety

from .model import COLUMNS, Dictionary


def dictionary_to_csv(dictionary: Dictionary) -> str:
    """The dictionary as REDCap CSV text (header row plus one row per field). Exempt from formula
    neutralising (see registry.csv_safety.round_trip_writer): REDCap must read it back as is."""
    out = io.StringIO()
    writer = csv_safety.round_trip_writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    writer.writerow(COLUMNS)
    for field in dictionary.fields:
        writer.writerow(field.to_row())
    return out.getvalue()
