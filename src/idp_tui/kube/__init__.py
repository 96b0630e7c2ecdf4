"""Kubernetes workloads for catalog entities: selection, rollout status, problems, events."""
