"""The demo cluster serves HTTPS like a real API server: its own certificate, made once, trusted by its kubeconfig."""

from __future__ import annotations

import fcntl
import os
import socket
import stat
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import kubernetes
import pytest
import urllib3
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from idp_tui.kube.demo_cluster import DemoCluster
from idp_tui.kube.demo_cluster.tls import CERTIFICATE_FILE, authority_file, demo_certificate, first_certificate
from idp_tui.session import Session


def _core(kubeconfig, retries: int = 0) -> kubernetes.client.CoreV1Api:
    configuration = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(str(kubeconfig), context="demo-eu", client_configuration=configuration)
    configuration.retries = retries
    return kubernetes.client.CoreV1Api(kubernetes.client.ApiClient(configuration))


def test_the_certificate_is_for_127_0_0_1_made_once_and_kept(tmp_path):
    first = demo_certificate(tmp_path)
    assert first.path == tmp_path / CERTIFICATE_FILE
    assert stat.S_IMODE(first.path.stat().st_mode) == 0o600  # it holds the private key
    certificate = x509.load_pem_x509_certificate(first.certificate_pem)
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert isinstance(certificate.public_key(), ec.EllipticCurvePublicKey)
    lifetime = certificate.not_valid_after_utc - datetime.now(UTC)
    assert timedelta(days=360) < lifetime < timedelta(days=366)

    started = time.perf_counter()
    again = demo_certificate(tmp_path)
    assert time.perf_counter() - started < 0.05 and again == first  # read back, not made again

    os.utime(first.path, (time.time() - 340 * 86_400,) * 2)  # a month from expiring: made anew
    renewed = demo_certificate(tmp_path)
    assert renewed.certificate_pem != first.certificate_pem


def test_two_processes_starting_at_once_end_up_with_the_same_certificate(tmp_path):
    results = []
    threads = [threading.Thread(target=lambda: results.append(demo_certificate(tmp_path))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({result.certificate_pem for result in results}) == 1
    assert [p.name for p in tmp_path.iterdir()] == [CERTIFICATE_FILE]  # no temporary file left behind


def test_a_start_waits_while_another_process_writes_the_certificate_and_then_uses_theirs(tmp_path):
    theirs = demo_certificate(tmp_path / "elsewhere").path.read_bytes()
    writing = os.open(tmp_path, os.O_RDONLY)
    fcntl.flock(writing, fcntl.LOCK_EX)  # another process is between "none there" and writing its own
    results = []
    waiting = threading.Thread(target=lambda: results.append(demo_certificate(tmp_path)))
    waiting.start()
    waiting.join(0.3)
    assert waiting.is_alive() and not results
    (tmp_path / CERTIFICATE_FILE).write_bytes(theirs)
    os.close(writing)
    waiting.join(30)
    assert results[0].certificate_pem == theirs[: theirs.index(b"-----BEGIN PRIVATE KEY")]
    assert (tmp_path / CERTIFICATE_FILE).read_bytes() == theirs  # not replaced by one made meanwhile


def test_a_broken_certificate_another_process_replaced_already_is_used_not_replaced_again(tmp_path):
    failed_here = demo_certificate(tmp_path)  # as if it could not be loaded, in two processes at once
    first = demo_certificate(tmp_path, broken=failed_here)
    assert first.certificate_pem != failed_here.certificate_pem
    second = demo_certificate(tmp_path, broken=failed_here)
    assert second.certificate_pem == first.certificate_pem  # what the first one's server presents, too
    assert first_certificate((tmp_path / CERTIFICATE_FILE).read_bytes()) == first.certificate_pem


def test_a_broken_kept_certificate_is_replaced_when_the_cluster_starts(tmp_path):
    other = demo_certificate(tmp_path / "other").path.read_bytes()
    mine = demo_certificate(tmp_path).path.read_bytes()
    key = mine[mine.index(b"-----BEGIN PRIVATE KEY") :]
    (tmp_path / CERTIFICATE_FILE).write_bytes(other[: other.index(b"-----BEGIN PRIVATE KEY")] + key)  # key mismatch
    cluster = DemoCluster(certificate_dir=tmp_path)
    cluster.start()
    try:
        kubeconfig = cluster.write_kubeconfig(tmp_path / "kubeconfig")
        assert _core(kubeconfig).list_namespace().items
    finally:
        cluster.stop()


def test_the_python_client_verifies_the_demo_certificate(tmp_path):
    cluster = DemoCluster(certificate_dir=tmp_path / "certs")
    url = cluster.start()
    try:
        assert url.startswith("https://127.0.0.1:")
        kubeconfig = cluster.write_kubeconfig(tmp_path / "kubeconfig")
        config = yaml.safe_load(kubeconfig.read_text())
        trusted = {Path(c["cluster"]["certificate-authority"]).read_bytes() for c in config["clusters"]}
        assert trusted == {cluster.certificate_pem} and b"PRIVATE KEY" not in cluster.certificate_pem
        assert all(c["cluster"]["server"].startswith("https://") for c in config["clusters"])
        assert "insecure-skip-tls-verify" not in kubeconfig.read_text()
        assert len(_core(kubeconfig).list_pod_for_all_namespaces().items) > 20

        another = authority_file(tmp_path / "another", demo_certificate(tmp_path / "another").certificate_pem)
        for entry in config["clusters"]:  # the same cluster, not trusted: the client refuses it
            entry["cluster"]["certificate-authority"] = str(another)
        (tmp_path / "untrusted").write_text(yaml.safe_dump(config))
        with pytest.raises(urllib3.exceptions.MaxRetryError, match="CERTIFICATE_VERIFY_FAILED"):
            _core(tmp_path / "untrusted").list_namespace()
    finally:
        cluster.stop()


def test_a_client_that_never_finishes_its_handshake_holds_up_no_one(tmp_path):
    cluster = DemoCluster(certificate_dir=tmp_path)
    url = cluster.start()
    silent = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])))  # connects, never says hello
    plain = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])))
    plain.sendall(b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n")  # plain HTTP to the HTTPS port
    try:
        kubeconfig = cluster.write_kubeconfig(tmp_path / "kubeconfig")
        started = time.perf_counter()
        assert _core(kubeconfig).list_namespace(_request_timeout=5).items
        assert time.perf_counter() - started < 2
    finally:
        silent.close()
        plain.close()
        cluster.stop()


def test_the_sessions_demo_cluster_is_https_with_its_certificate_in_the_state_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    session = Session.for_catalog()
    try:
        clusters = session.workload_source()
        assert session.demo_cluster.base_url.startswith("https://")
        assert (tmp_path / "state" / "idp-tui" / "demo-cluster" / CERTIFICATE_FILE).exists()
        assert "demo-eu" in clusters.cluster_names()
        _core(clusters.config_file).list_namespace()
    finally:
        session.close()
