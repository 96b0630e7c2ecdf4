# Guardrails for catalog entities (package catalog): what a service must say about itself before it is called
# production. Evaluated on every entity of the catalog and on the catalog-info.yaml a golden path renders.
package catalog

import rego.v1

deployed_types := {"service", "website"}

# Someone must be paged when a production service breaks. idp-tui's on-call view reads either annotation, so
# either satisfies the rule. Libraries and tools are not deployed, so nobody is paged for them.
deny_production_without_oncall contains msg if {
	input.kind == "Component"
	input.spec.lifecycle == "production"
	input.spec.type in deployed_types
	not input.metadata.annotations["pagerduty.com/service-id"]
	not input.metadata.annotations["opsgenie.com/team"]
	msg := sprintf("production %s %s has no pagerduty.com/service-id annotation (or opsgenie.com/team)", [input.spec.type, input.metadata.name])
}

# Tier-1 services are customer-facing with 24/7 on-call: whoever is paged at 3 am needs the runbook one click
# away. The tier is the label the golden path's "Service tier" sets (tier: tier-1), or a tier-1 tag.
deny_tier1_without_runbook contains msg if {
	input.kind == "Component"
	tier_1
	not has_runbook
	msg := sprintf("tier-1 %s needs a runbook link (a link whose title or URL says runbook)", [input.metadata.name])
}

tier_1 if input.metadata.labels.tier == "tier-1"

tier_1 if "tier-1" in input.metadata.tags

has_runbook if {
	some link in input.metadata.links
	contains(lower(concat(" ", [object.get(link, "title", ""), link.url])), "runbook")
}
