"""Scaffolding a version: a copy of a package or module, or a minimal template, plus a test
module; nothing that exists is overwritten."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway import GatewayError
from gateway.versioning.scaffold import new_version

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "versions" / "v2").mkdir(parents=True)
    (tmp_path / "versions" / "v1.py").write_text("# version one\n")
    (tmp_path / "versions" / "v2" / "__init__.py").write_text("# version two\n")
    (tmp_path / "versions" / "v2" / "__pycache__").mkdir()
    (tmp_path / "versions" / "v2.openapi.json").write_text("{}\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_copy_of_a_package(project: Path) -> None:
    result = new_version(project / "versions", project / "tests", 3, source_number=2)
    assert result.created == [project / "versions" / "v3", project / "tests" / "test_v3.py"]
    assert result.copied_from == project / "versions" / "v2"
    assert (project / "versions" / "v3" / "__init__.py").read_text() == "# version two\n"
    assert not (project / "versions" / "v3" / "__pycache__").exists()
    assert not (project / "versions" / "v3.openapi.json").exists()
    assert "VERSION = 3" in (project / "tests" / "test_v3.py").read_text()


def test_copy_of_a_module(project: Path) -> None:
    result = new_version(project / "versions", project / "tests", 4, source_number=1)
    assert result.created[0] == project / "versions" / "v4.py"
    assert (project / "versions" / "v4.py").read_text() == "# version one\n"


def test_minimal_template(project: Path) -> None:
    new_version(project / "versions", project / "tests", 5)
    source = (project / "versions" / "v5.py").read_text()
    assert "app = create_version_app(" in source
    compile(source, "v5.py", "exec")
    compile((project / "tests" / "test_v5.py").read_text(), "test_v5.py", "exec")


@pytest.mark.parametrize(
    ("number", "source", "message"),
    [
        (1, None, "versions/v1.py already exists"),
        (2, 1, "versions/v2 already exists"),
        (6, 9, "there is no version 9 in versions"),
    ],
)
def test_refuses_to_overwrite_or_to_copy_nothing(
    project: Path, number: int, source: int | None, message: str
) -> None:
    before = sorted(p.relative_to(project) for p in project.rglob("*"))
    with pytest.raises(GatewayError, match=message):
        new_version(project / "versions", project / "tests", number, source_number=source)
    assert sorted(p.relative_to(project) for p in project.rglob("*")) == before


def test_existing_test_module_is_not_overwritten(project: Path) -> None:
    (project / "tests").mkdir()
    (project / "tests" / "test_v7.py").write_text("# mine\n")
    with pytest.raises(GatewayError, match=r"tests/test_v7\.py already exists"):
        new_version(project / "versions", project / "tests", 7)
    assert not (project / "versions" / "v7.py").exists()
    assert (project / "tests" / "test_v7.py").read_text() == "# mine\n"
