# Shared record fixtures live in tests/fixtures_records.py (loaded by tests/conftest.py).
from tests.fixtures_records import COMPLETE_CASE, PASSWORD, enter_case  # noqa: F401
