"""Who owns what and who is on call: ownership from the catalog, ladders from PagerDuty, Opsgenie or the demo."""
