"""A crispy layout object for markup around dictionary text.

crispy's `HTML()` compiles its string as a Django template, so text from a dictionary put into it
runs as template code (`{{ request.user.password }}` in a section header printed the viewer's
password hash). `Snippet` renders a fixed template file with the text as a context variable:
the data never becomes template source.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString


class Snippet:
    def __init__(self, template_name: str, **context: Any) -> None:
        self.template_name = template_name
        self.context = context

    def render(self, form, context, template_pack=None, **kwargs) -> SafeString:
        return render_to_string(self.template_name, self.context)
