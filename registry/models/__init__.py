from .audit import AuditEvent
from .dictionary import DictionaryVersion
from .quality import DataQualityRule, FindingAcknowledgement, Query, QueryMessage
from .records import (
    FormStatus,
    InstrumentData,
    LockOutbox,
    Record,
    RecordCounter,
    Signature,
)
from .reports import SavedReport

__all__ = [
    "AuditEvent",
    "DataQualityRule",
    "DictionaryVersion",
    "FindingAcknowledgement",
    "FormStatus",
    "InstrumentData",
    "LockOutbox",
    "Query",
    "QueryMessage",
    "Record",
    "RecordCounter",
    "SavedReport",
    "Signature",
]
