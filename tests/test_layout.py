"""The package layout: pitchey/ on disk is a view of the top-level folders, and each folder has one
module name (docs/architecture.md, "One package on disk")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from setuptools import find_packages

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("server", "actors", "rooms", "protocol", "storage", "loadtest")


@pytest.mark.parametrize("name", PACKAGES)
def test_pitchey_subpackage_is_the_top_level_folder(name: str) -> None:
    link = ROOT / "pitchey" / name
    assert link.is_symlink() and not Path(link.readlink()).is_absolute()  # relative: clones anywhere
    assert link.resolve() == ROOT / name


def test_discovery_finds_every_package_through_the_links() -> None:
    found = set(find_packages(str(ROOT), include=["pitchey", "pitchey.*"]))
    assert found >= {"pitchey", "pitchey.server.routes", *(f"pitchey.{name}" for name in PACKAGES)}


@pytest.mark.parametrize("name", PACKAGES)
def test_a_folder_imported_under_its_bare_name_refuses(name: str) -> None:
    """With the repository root on sys.path, `import server` would load a second copy of every
    module; it fails at once with a message naming the right import."""
    proc = subprocess.run(
        [sys.executable, "-c", f"import {name}"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0
    assert f"ImportError: import pitchey.{name}, not {name}" in proc.stderr


def test_the_pitchey_name_imports_from_the_repository_root() -> None:
    code = (
        "import sys, pitchey.server.app, pitchey.rooms.hub\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {set(PACKAGES)!r}))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"  # no module loaded under a second name
