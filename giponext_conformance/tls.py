"""Throwaway certificate authority for one run of the harness.

The mocks serve HTTPS with a server certificate that a fresh CA signs at each
run, so clients verify TLS for real (TRN-01) against a CA file the harness
hands them, and no key outlives the run's folder.
"""

from __future__ import annotations

import logging
from pathlib import Path

import trustme

logger = logging.getLogger(__name__)

DEFAULT_HOSTNAMES = ("127.0.0.1", "localhost", "::1")


class RunCA:
    """A CA made with trustme whose certificate is written to `ca.pem`."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._authority = trustme.CA(organization_name="giponext-conformance run CA")
        self.ca_cert_path = self.directory / "ca.pem"
        self._authority.cert_pem.write_to_path(str(self.ca_cert_path))
        self._issued = 0
        logger.info("created run CA at %s", self.ca_cert_path)

    def issue(self, hostnames=DEFAULT_HOSTNAMES) -> tuple[Path, Path]:
        """Issue a server certificate for `hostnames`; return (cert_path, key_path).

        The certificate file contains the whole chain, so a server that loads it
        presents the chain a client needs. The key file is readable by its
        owner only.
        """
        hostnames = tuple(hostnames)
        if not hostnames:
            raise ValueError("a server certificate needs at least one hostname")

        self._issued += 1
        stem = f"server-{self._issued}"
        cert_path = self.directory / f"{stem}.pem"
        key_path = self.directory / f"{stem}-key.pem"

        leaf = self._authority.issue_cert(*hostnames)
        with open(cert_path, "wb") as cert_file:
            for blob in leaf.cert_chain_pems:
                cert_file.write(blob.bytes())
        key_path.touch(mode=0o600)
        leaf.private_key_pem.write_to_path(str(key_path))

        logger.info("issued server certificate for %s", ", ".join(hostnames))
        return cert_path, key_path
