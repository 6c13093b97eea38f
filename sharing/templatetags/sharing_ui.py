"""What the file browser's share dialog needs from the sharing app, put into the page.

The drive pages are rendered by ``files`` (which never imports ``sharing``); their dialog
template loads this library to hand the share dialog the operator's policy and the URLs it
calls, as JSON (``json_script``: the CSP allows no inline script).
"""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import json_script
from django.utils.safestring import SafeString

from sharing.forms import policy_facts
from sharing.models import SharingPolicy

register = template.Library()


@register.simple_tag
def share_config() -> SafeString:
    config = {
        "policy": policy_facts(SharingPolicy.current()),
        "urls": {
            "api": reverse("api:share-list"),
            "page": reverse("sharing:list"),
            "detail": reverse("sharing:detail", args=[0]),
        },
    }
    return json_script(config, "ff-share-config")
