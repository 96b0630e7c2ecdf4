"""Well-known annotations are explained in words, with the link they imply; secrets are not printed."""

from idp_tui.catalog.annotations import describe_annotations


def test_known_annotations_read_as_words_and_links():
    known, other = describe_annotations(
        {
            "github.com/project-slug": "myorg/payment-processor",
            "backstage.io/techdocs-ref": "dir:.",
            "pagerduty.com/service-id": "P1A2B3C",
            "backstage.io/source-location": "url:https://github.com/myorg/pp/tree/main/",
            "backstage.io/kubernetes-label-selector": "app=pp,tier=backend",
            "slack.com/channel": "#payments",
            "example.com/custom": "value",
        }
    )
    by_key = {info.key: info for info in known}
    assert by_key["github.com/project-slug"].url == "https://github.com/myorg/payment-processor"
    assert by_key["backstage.io/techdocs-ref"].text.startswith("docs next to the descriptor")
    assert by_key["pagerduty.com/service-id"].text == "service P1A2B3C"
    assert by_key["backstage.io/source-location"].url == "https://github.com/myorg/pp/tree/main/"
    assert by_key["backstage.io/kubernetes-label-selector"].text == "workloads matching app=pp,tier=backend"
    assert by_key["slack.com/channel"].text == "#payments"
    assert other == [("example.com/custom", "value")]


def test_an_integration_key_is_never_printed_whole():
    (info,), _ = describe_annotations({"pagerduty.com/integration-key": "abcdef0123456789secret"})
    assert "abcdef0123456789secret" not in info.text and info.text.endswith("cret")
