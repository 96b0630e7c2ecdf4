"""A demo Kubernetes cluster: the REST API on 127.0.0.1 for the official client, in the demo profile and in tests."""

from idp_tui.kube.demo_cluster.server import DemoCluster, start_demo_cluster

__all__ = ["DemoCluster", "start_demo_cluster"]
