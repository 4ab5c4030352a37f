from .audit import AuditEvent
from .dictionary import DictionaryTranslation, DictionaryVersion
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
    "DictionaryTranslation",
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
