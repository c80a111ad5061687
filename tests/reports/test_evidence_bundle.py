"""Evidence bundle: members, manifest checksums and tamper detection."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile

import pytest

from giponext_conformance import __version__
from giponext_conformance.bundle import build_bundle, verify_bundle
from giponext_conformance.errors import InputFileError
from giponext_conformance.summary import load_results, write_summaries


def test_bundle_holds_every_evidence_file(quirk_report_dir, tmp_path):
    write_summaries(
        load_results(quirk_report_dir / "conformance.json"), quirk_report_dir
    )

    path = build_bundle(quirk_report_dir, tmp_path / "evidence.zip")

    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
    assert names == {
        "conformance.json",
        "summary.md",
        "summary.html",
        "junit.xml",
        "allure-results/0a1b-result.json",
        "allure-results/0a1b-attachment.json",
        "journals/giponext.har",
        "manifest.json",
    }


def test_manifest_digests_match_files(quirk_report_dir, tmp_path):
    path = build_bundle(quirk_report_dir, tmp_path / "evidence.zip")

    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    expected = hashlib.sha256(
        (quirk_report_dir / "conformance.json").read_bytes()
    ).hexdigest()
    assert manifest["harness"] == {
        "name": "giponext-conformance",
        "version": __version__,
    }
    assert manifest["files"]["conformance.json"]["sha256"] == expected
    assert manifest["files"]["journals/giponext.har"]["size"] == 42


def test_verify_accepts_untouched_bundle(quirk_report_dir, tmp_path):
    path = build_bundle(quirk_report_dir, tmp_path / "evidence.zip")

    result = verify_bundle(path)

    assert result.ok
    assert result.problems == []
    assert result.checked == 5


def test_verify_detects_changed_member(quirk_report_dir, tmp_path):
    original = build_bundle(quirk_report_dir, tmp_path / "evidence.zip")
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(original) as source, zipfile.ZipFile(tampered, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "conformance.json":
                data = data.replace(b'"failed"', b'"passed"')
            target.writestr(name, data)

    result = verify_bundle(tampered)

    assert not result.ok
    assert len(result.problems) == 1
    assert result.problems[0].startswith("conformance.json: expected SHA-256 ")


def test_verify_detects_added_and_removed_members(quirk_report_dir, tmp_path):
    original = build_bundle(quirk_report_dir, tmp_path / "evidence.zip")
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(original) as source, zipfile.ZipFile(tampered, "w") as target:
        for name in source.namelist():
            if name != "junit.xml":
                target.writestr(name, source.read(name))
        target.writestr("extra.txt", b"added later")

    result = verify_bundle(tampered)

    assert result.problems == [
        "extra.txt is in the archive but not in the manifest",
        "junit.xml is in the manifest but missing from the archive",
    ]


def test_bundle_skips_generated_report_site(quirk_report_dir, tmp_path):
    site = quirk_report_dir / "allure-report"
    site.mkdir()
    (site / "copy.har").write_text("{}", "utf-8")

    path = build_bundle(quirk_report_dir, tmp_path / "evidence.zip")

    with zipfile.ZipFile(path) as archive:
        assert "allure-report/copy.har" not in archive.namelist()


def test_bundle_requires_conformance_json(tmp_path):
    with pytest.raises(InputFileError, match="conformance.json does not exist"):
        build_bundle(tmp_path, tmp_path / "evidence.zip")


def test_verify_rejects_non_zip(tmp_path):
    path = tmp_path / "evidence.zip"
    shutil.copyfile(__file__, path)

    with pytest.raises(InputFileError, match="is not a zip archive"):
        verify_bundle(path)
