"""Dictionary text (labels, notes, section headers, choice labels...) rendered as HTML.

A dictionary is uploaded by a data manager and read by everyone, so its text is untrusted: it
goes through nh3 (the Rust `ammonia` sanitizer) with an allowlist of the harmless markup REDCap
users put in labels. Everything else is stripped (tags) or escaped (text); `{{ }}`, `{% %}` and
piping such as `[field]` stay literal text. The result is meant to be inserted as is, never
compiled as a template. The stored dictionary itself is never changed.
"""

from __future__ import annotations

import html

import nh3
from django.utils.safestring import SafeString, mark_safe

__all__ = ["ALLOWED_TAGS", "render_dictionary_text", "dictionary_plain_text"]

ALLOWED_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "br", "p", "ul", "ol", "li", "span", "a", "sub", "sup"}
)
STYLE_PROPERTIES = frozenset(
    {"color", "background-color", "font-weight", "font-style", "text-decoration"}
)
# A style value may only be words, numbers, colours and lists of them: no url(), expression(),
# escapes or comments, whatever property name they hide behind.
_STYLE_VALUE_CHARACTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789#%.,:; -"
)


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "style" and not set(value) <= _STYLE_VALUE_CHARACTERS:
        return None
    return value


_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags={"script", "style"},
    attributes={"a": {"href"}, "span": {"style"}},
    attribute_filter=_attribute_filter,
    filter_style_properties=set(STYLE_PROPERTIES),
    url_schemes={"http", "https", "mailto"},
    url_relative="deny",  # a label never links into the registry itself
    link_rel="noopener noreferrer",
    strip_comments=True,
)
_PLAIN = nh3.Cleaner(tags=set(), clean_content_tags={"script", "style"})


def render_dictionary_text(text: str | None) -> SafeString:
    """The one way dictionary text becomes HTML: sanitized, safe to insert as is."""
    # The sanitizer's output is the trust boundary, hence the mark_safe.
    return mark_safe(_CLEANER.clean(text or ""))  # noqa: S308


def dictionary_plain_text(text: str | None) -> str:
    """The same text without markup, for places that take plain text (option, title,
    aria-label, messages); the template engine escapes it there like any other string."""
    return html.unescape(_PLAIN.clean(text or ""))
