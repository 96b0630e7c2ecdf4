"""OSC 8 links and OSC 52 copies: the exact bytes a terminal (or tmux) expects."""

from __future__ import annotations

from idp_tui.catalog.entity import Entity
from idp_tui.catalog.links import entity_links
from idp_tui.render.hyperlinks import osc8, osc52


def test_osc52_bytes_plain_and_through_tmux():
    assert osc52("component:default/payment-processor") == (
        b"\x1b]52;c;Y29tcG9uZW50OmRlZmF1bHQvcGF5bWVudC1wcm9jZXNzb3I=\x07"
    )
    assert osc52("hi", inside_tmux=True) == b"\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\"


def test_osc8_wraps_the_text_and_strips_control_characters_from_the_url():
    assert osc8("repo", "https://github.com/acme/x") == "\x1b]8;;https://github.com/acme/x\x1b\\repo\x1b]8;;\x1b\\"
    assert "\x07" not in osc8("x", "https://evil\x07.example/\x1b]52;c;AAAA")


def test_entity_links_from_annotations_and_links():
    raw = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {
            "name": "svc",
            "annotations": {"github.com/project-slug": "acme/svc", "pagerduty.com/service-id": "P123"},
            "links": [{"url": "https://runbooks.acme.example/svc", "title": "Runbook"}],
        },
        "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"},
    }
    links = entity_links(Entity(raw, "component:default/svc"))
    assert [(link.title, link.url) for link in links] == [
        ("GitHub repository", "https://github.com/acme/svc"),
        ("Runbook", "https://runbooks.acme.example/svc"),
    ]
