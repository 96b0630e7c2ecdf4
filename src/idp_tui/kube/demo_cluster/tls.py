"""The demo cluster's TLS certificate: self-signed for 127.0.0.1 and localhost, made once and kept.

A real API server serves HTTPS, and its kubeconfig carries the certificate authority to trust
(``certificate-authority-data``); Go clients such as kubectl and k9s will not send a bearer token over plain HTTP.
So the demo does the same. Making an EC P-256 key and certificate costs ~1 ms, but importing ``cryptography``
~60-100 ms: the pair is written once to the state directory and reused while it has more than a month to live.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

CERTIFICATE_FILE = "demo-cluster-tls.pem"
AUTHORITY_PREFIX = "demo-cluster-ca-"
VALID_DAYS = 365
# Renewed while it still has this long to live, so a cluster started today is never served with an expired one.
RENEW_BEFORE_DAYS = 30
DAY = 86_400.0
_BEGIN_CERTIFICATE = b"-----BEGIN CERTIFICATE-----"
_END_CERTIFICATE = b"-----END CERTIFICATE-----"


@dataclass(frozen=True)
class DemoCertificate:
    """The served certificate and key in one PEM file, the certificate alone (what clients must trust), and a
    digest of the whole file (which file this was, without keeping the key)."""

    path: Path
    certificate_pem: bytes
    file_digest: str = ""


def demo_certificate(directory: Path, *, broken: DemoCertificate | None = None) -> DemoCertificate:
    """The demo cluster's certificate in ``directory``: the one kept there, or a new one written there first.

    Args:
        directory: Where the PEM file (certificate, then private key; readable by this user only) is kept.
        broken: The kept one, which could not be loaded: it is replaced, unless another process replaced it
            already.

    Several demo clusters may start at once (test workers, a TUI beside ``idp-tui demo cluster``): the first
    writer wins and every process then uses the file as written, so the certificate a kubeconfig trusts is the
    one the server presents.
    """
    path = directory / CERTIFICATE_FILE
    if broken is None:
        kept = _kept(path)
        if kept is not None:
            return kept
    directory.mkdir(parents=True, exist_ok=True)
    with _only_writer(directory):
        kept = _kept(path, ignore_age=broken is not None)
        if kept is not None and (broken is None or kept.file_digest != broken.file_digest):
            return kept  # another process wrote a good one (or replaced the broken one) while this one waited
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{CERTIFICATE_FILE}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:  # mkstemp makes it 0600: the private key stays this user's
                out.write(generate_certificate())
            os.replace(temporary, path)  # none yet, or an old or broken one
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        kept = _kept(path, ignore_age=True)
    if kept is None:
        raise OSError(f"cannot read the demo cluster's certificate {path}")
    return kept


@contextlib.contextmanager
def _only_writer(directory: Path):
    """Hold the directory's lock: one process (or thread) at a time decides whether to write a new certificate.

    Without it, a process that found no certificate could replace the one another process wrote a moment before,
    and the first one would serve a certificate its kubeconfig no longer trusts.
    """
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _kept(path: Path, *, ignore_age: bool = False) -> DemoCertificate | None:
    """The certificate in ``path`` if it is there, holds a certificate and a key, and is young enough."""
    try:
        if not ignore_age:
            age = time.time() - path.stat().st_mtime
            if not 0 <= age < (VALID_DAYS - RENEW_BEFORE_DAYS) * DAY:
                return None
        data = path.read_bytes()
    except OSError:
        return None
    certificate = first_certificate(data)
    if certificate is None or b"PRIVATE KEY-----" not in data:
        return None
    return DemoCertificate(path, certificate, hashlib.sha256(data).hexdigest())


def authority_file(directory: Path, certificate_pem: bytes) -> Path:
    """The certificate alone in ``directory``, in a file named by its fingerprint; written if missing.

    A kubeconfig points at this file rather than embedding it (``certificate-authority-data``): the Python client
    parses the kubeconfig with PyYAML's pure-Python scanner for every client it makes, and a ~1 KB base64 scalar per
    cluster costs ~3 ms each time. Named by content, the file is never rewritten with another certificate, so a
    kubeconfig stays right even when a later run renews the certificate.
    """
    path = directory / f"{AUTHORITY_PREFIX}{hashlib.sha256(certificate_pem).hexdigest()[:16]}.crt"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            out.write(certificate_pem)
        os.chmod(temporary, 0o644)  # public: it is what clients trust
        os.replace(temporary, path)  # the same bytes whoever writes it
    return path


def first_certificate(pem: bytes) -> bytes | None:
    """The first certificate in PEM data that may also hold the key (which must never reach a kubeconfig)."""
    start, end = pem.find(_BEGIN_CERTIFICATE), pem.find(_END_CERTIFICATE)
    if start < 0 or end < start:
        return None
    return pem[start : end + len(_END_CERTIFICATE)] + b"\n"


def generate_certificate(now: float | None = None) -> bytes:
    """A new self-signed certificate for ``127.0.0.1`` and ``localhost`` and its EC P-256 key, as PEM.

    The certificate is its own authority (what a kubeconfig's ``certificate-authority-data`` holds), with the
    extensions strict verifiers ask of one: critical basic constraints and key usage, subject and authority key
    identifiers, and serverAuth for the subject alternative names (Go ignores the common name).
    """
    import ipaddress
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp-tui demo cluster")])
    # An hour of slack for a clock that is a little behind.
    start = datetime.fromtimestamp(time.time() if now is None else now, UTC) - timedelta(hours=1)
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return certificate.public_bytes(serialization.Encoding.PEM) + key_pem


__all__ = [
    "CERTIFICATE_FILE",
    "DemoCertificate",
    "authority_file",
    "demo_certificate",
    "first_certificate",
    "generate_certificate",
]
