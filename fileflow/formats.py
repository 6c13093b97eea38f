"""How pages and messages write moments and sizes: one way each, shared with
``static/js/format.js`` (which every page loads).

- Sizes: Django's ``filesizeformat`` (base 1024, "KB"/"MB" labels); the script's
  ``FF.formatSize`` gives the same text for every size (a test compares them).
- Moments: a page writes ``<time datetime="…Z">`` with a readable fallback in the server's
  time zone; the script rewrites it in the browser's locale and time zone. A message
  (an error, a notice) that names a moment carries it as ``YYYY-MM-DDTHH:MMZ``; pages wrap
  such stamps in ``<time>`` (``|with_times``) and the script formats those too, so an API
  client reads an unambiguous stamp and a person reads their own local time.

Installed as a template builtin (``TEMPLATES`` options), so every template has the filters.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()

STAMP = re.compile(r"\b(\d{4}-\d\d-\d\dT\d\d:\d\dZ)")


def moment_stamp(moment: datetime) -> str:
    """``2026-12-04T20:24Z``: how a message names a moment."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def moment_text(moment: datetime, *, with_time: bool = True) -> str:
    """What a page shows before (or without) its script: the server's time zone, named."""
    local = timezone.localtime(moment)
    if not with_time:
        return date_format(local, "j M Y")
    return f"{date_format(local, 'j M Y, H:i')} {local.tzname()}"


@register.filter
def when(moment: datetime | None, style: str = "") -> SafeString | str:
    """``{{ node.updated_at|when }}``: a ``<time>`` the page's script localises;
    ``|when:"date"`` for the day alone."""
    if moment is None:
        return ""
    if style == "date":
        return format_html(
            '<time datetime="{}" data-style="date">{}</time>',
            moment_stamp(moment),
            moment_text(moment, with_time=False),
        )
    return format_html('<time datetime="{}">{}</time>', moment_stamp(moment), moment_text(moment))


def _time_of(stamp: str) -> SafeString | str:
    return when(datetime.strptime(stamp, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC))


@register.filter
def with_times(text: object) -> SafeString:
    """A message, escaped, with each moment stamp in it made a ``<time>``."""
    # split() with a group: the stamps are the odd pieces.
    pieces = STAMP.split(str(text))
    return format_html_join(
        "",
        "{}",
        ((_time_of(piece) if index % 2 else piece,) for index, piece in enumerate(pieces)),
    )
