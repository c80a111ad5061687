"""Conformance test and mock harness for the GipoNext RIS-PACS FHIR STU3 integration."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("giponext-conformance")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
