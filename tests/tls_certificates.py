"""Certificates for the TLS tests of the mail transport: a certificate authority of the
test's own, a server certificate it signed for localhost, and a self-signed certificate
that names another host."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(path: Path, key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate) -> None:
    path.with_suffix(".key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.with_suffix(".pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: str,
    issuer_key: ec.EllipticCurvePrivateKey,
    is_ca: bool,
    names: list[x509.GeneralName],
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass
class Certificates:
    ca_file: Path
    server: Path
    impostor: Path

    def server_context(self, which: str = "server") -> ssl.SSLContext:
        """A TLS context for the test SMTP server, with the trusted or the impostor cert."""
        path = self.server if which == "server" else self.impostor
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(path.with_suffix(".pem"), path.with_suffix(".key"))
        return context


def make_certificates(directory: Path) -> Certificates:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("Test CA", ca_key, "Test CA", ca_key, True, [])
    _write(directory / "ca", ca_key, ca)

    server_key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    server = _certificate("localhost", server_key, "Test CA", ca_key, False, names)
    _write(directory / "server", server_key, server)

    impostor_key = ec.generate_private_key(ec.SECP256R1())
    other = [x509.DNSName("mail.other.example")]
    impostor = _certificate(
        "mail.other.example", impostor_key, "mail.other.example", impostor_key, False, other
    )
    _write(directory / "impostor", impostor_key, impostor)
    return Certificates(directory / "ca.pem", directory / "server", directory / "impostor")
