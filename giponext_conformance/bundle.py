"""Evidence bundle: one zip archive with everything a certification rests on.

The archive contains conformance.json, the Markdown and HTML summaries, the JUnit
XML files, the raw Allure results (with every HTTP exchange the steps
attached), the mocks' journals exported as HAR, and manifest.json. The
manifest lists each member with its size and SHA-256 digest, plus the harness
name and version, so that `verify_bundle` (or anyone with `sha256sum`) can
show that no file was changed after the run.

Layout of a report folder that `build_bundle` collects from:

    conformance.json          required
    summary.md, summary.html  written by the report command
    *.xml                     JUnit XML at the top level
    allure-results/**         raw Allure results
    **/*.har                  journals of the mocks, outside allure-report/
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from giponext_conformance import __version__
from giponext_conformance.errors import InputFileError

MANIFEST_NAME = "manifest.json"
HARNESS_NAME = "giponext-conformance"

# Folders that are derived from the members and would only double the size.
_SKIPPED_FOLDERS = ("allure-report", "screenshots")

_CHUNK_SIZE = 1 << 16


@dataclass
class VerificationResult:
    """Outcome of `verify_bundle`: ok when no problem was found."""

    path: Path
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def collect_members(report_dir: str | Path) -> dict[str, Path]:
    """Return {archive name: file} for the report files that go in a bundle."""
    report_dir = Path(report_dir)
    conformance = report_dir / "conformance.json"
    if not conformance.is_file():
        raise InputFileError(
            f"{conformance} does not exist. Run 'giponext-conformance run' first."
        )

    members = {"conformance.json": conformance}
    for name in ("summary.md", "summary.html"):
        if (report_dir / name).is_file():
            members[name] = report_dir / name
    for junit in sorted(report_dir.glob("*.xml")):
        members[junit.name] = junit

    allure_results = report_dir / "allure-results"
    if allure_results.is_dir():
        for path in sorted(allure_results.rglob("*")):
            if path.is_file():
                members[path.relative_to(report_dir).as_posix()] = path

    for har in sorted(report_dir.rglob("*.har")):
        relative = har.relative_to(report_dir)
        if relative.parts[0] in _SKIPPED_FOLDERS:
            continue
        members[relative.as_posix()] = har
    return members


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(_CHUNK_SIZE), b""):
            digest.update(chunk)
    return digest.hexdigest()


def build_manifest(members: dict[str, Path]) -> dict:
    """Return the manifest: harness, creation time and SHA-256 of each member."""
    return {
        "harness": {"name": HARNESS_NAME, "version": __version__},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "algorithm": "sha256",
        "files": {
            name: {"sha256": sha256_of_file(path), "size": path.stat().st_size}
            for name, path in sorted(members.items())
        },
    }


def default_bundle_path(report_dir: str | Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path(report_dir) / f"evidence-{stamp}.zip"


def build_bundle(report_dir: str | Path, output: str | Path | None = None) -> Path:
    """Write the evidence archive of a report folder and return its path."""
    members = collect_members(report_dir)
    manifest = build_manifest(members)
    output = Path(output) if output else default_bundle_path(report_dir)
    output.parent.mkdir(parents=True, exist_ok=True)

    # Writing to a temporary name first means a bundle that exists is complete.
    partial = output.with_name(output.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, path in sorted(members.items()):
            archive.write(path, arcname=name)
        archive.writestr(MANIFEST_NAME, json.dumps(manifest, indent=2) + "\n")
    partial.replace(output)
    return output


def verify_bundle(path: str | Path) -> VerificationResult:
    """Check every member of a bundle against the SHA-256 and size in its manifest."""
    path = Path(path)
    result = VerificationResult(path=path)
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise InputFileError(f"{path} does not exist.") from None
    except zipfile.BadZipFile:
        raise InputFileError(f"{path} is not a zip archive.") from None

    with archive:
        manifest = _read_manifest(archive, result)
        if manifest is None:
            return result
        listed = manifest.get("files", {})
        present = {name for name in archive.namelist() if not name.endswith("/")}
        present.discard(MANIFEST_NAME)

        for name in sorted(present - listed.keys()):
            result.problems.append(f"{name} is in the archive but not in the manifest")
        for name in sorted(listed.keys() - present):
            result.problems.append(
                f"{name} is in the manifest but missing from the archive"
            )
        for name in sorted(present & listed.keys()):
            _check_member(archive, name, listed[name], result)
    return result


def _read_manifest(archive: zipfile.ZipFile, result: VerificationResult) -> dict | None:
    try:
        manifest = json.loads(archive.read(MANIFEST_NAME))
    except KeyError:
        result.problems.append(f"{MANIFEST_NAME} is missing")
        return None
    except json.JSONDecodeError:
        result.problems.append(f"{MANIFEST_NAME} is not valid JSON")
        return None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        result.problems.append(f"{MANIFEST_NAME} has no 'files' object")
        return None
    return manifest


def _check_member(archive: zipfile.ZipFile, name: str, expected: dict, result) -> None:
    digest = hashlib.sha256()
    size = 0
    with archive.open(name) as stream:
        for chunk in iter(lambda: stream.read(_CHUNK_SIZE), b""):
            digest.update(chunk)
            size += len(chunk)
    result.checked += 1
    if digest.hexdigest() != expected.get("sha256"):
        result.problems.append(
            f"{name}: expected SHA-256 {expected.get('sha256')}, "
            f"found {digest.hexdigest()}"
        )
    if size != expected.get("size"):
        result.problems.append(
            f"{name}: expected {expected.get('size')} bytes, found {size}"
        )
