"""How the API writes a node: one function builds it (fast), and it must say exactly what
the declared fields (which the schema shows) would say, field by field."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from files import services, tree
from files.api.serializers import NodeSerializer, TrashEntrySerializer
from files.models import Node

pytestmark = pytest.mark.django_db


def field_by_field(serializer: serializers.Serializer, node: Node) -> dict:
    """What DRF makes of the declared fields, going through them one by one."""
    return dict(serializers.Serializer.to_representation(serializer, node))


def test_a_node_is_written_as_its_declared_fields_say(alice, home, upload, mkdir, settings):
    settings.TIME_ZONE = "Europe/Berlin"  # times are written in the server's time zone
    folder = mkdir("/Photos")
    tagged = upload("a.jpg", b"\xff\xd8\xff" + b"x" * 100, parent=folder)
    services.node_set_tags(node=tagged, names=["holiday", "beach"])
    services.node_set_favorite(node=tagged, is_favorite=True)
    plain = upload("b.txt", b"")
    trashed = services.node_trash(node=upload("c.txt", b"old"), actor=alice)
    nodes = Node.objects.filter(pk__in=[home.pk, folder.pk, tagged.pk, plain.pk, trashed.pk])
    contexts = [{}, {"paths": {tagged.pk: "/Photos/a.jpg"}, "untagged": {plain.pk}}]
    for node in nodes.select_related("blob"):
        for context in contexts:
            ours = NodeSerializer(node, context=context)
            assert ours.data == field_by_field(NodeSerializer(node, context=context), node)
            assert list(ours.data) == list(NodeSerializer().fields)
    written = JSONRenderer().render(NodeSerializer(tagged).data).decode()
    assert '"tags":["beach","holiday"]' in written and '"is_favorite":true' in written
    berlin = tagged.created_at.astimezone(ZoneInfo("Europe/Berlin")).isoformat()
    assert f'"created_at":"{berlin}"' in written

    entry = Node.objects.get(pk=trashed.pk)
    entry.trashed_from = "/"
    paths = {"paths": {entry.pk: "/c.txt"}}
    ours = TrashEntrySerializer(entry, context=paths).data
    assert ours == field_by_field(TrashEntrySerializer(entry, context=paths), entry)
    assert ours["trashed_at"] is not None and ours["trashed_from"] == "/"
    assert list(ours) == list(TrashEntrySerializer().fields)
    assert tree.home_of(alice).parent_id is None
