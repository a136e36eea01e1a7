"""The `flet build` configuration is complete, and every runtime dependency has a way onto a phone.

Building needs the Flutter SDK and internet access, so CI cannot build; these tests check what a
build would read: packaging/pyproject.toml ([tool.flet]), the entry module, the icons, and
packaging/mobile-dependencies.toml against the repository's [project.dependencies].
"""

from __future__ import annotations

import ast
import importlib.util
import re
import tomllib
from pathlib import Path
from typing import Any

import cv2
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
TARGETS = ("android", "ios", "macos", "linux", "windows")
MOBILE = ("android", "ios")
DESKTOP = ("macos", "linux", "windows")
STATUSES = {"pure-python", "mobile-index", "fallback", "not-shipped"}
DEVICE_PACKAGES = ("app", "device", "edge_sync")


def _toml(path: Path) -> dict[str, Any]:
    with path.open("rb") as f:
        return tomllib.load(f)


def _name(requirement: str) -> str:
    """The canonical distribution name of a requirement string ("psycopg[binary]~=3.3" -> "psycopg")."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, f"not a requirement: {requirement!r}"
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


@pytest.fixture(scope="module")
def flet_project() -> dict[str, Any]:
    return _toml(PACKAGING / "pyproject.toml")


@pytest.fixture(scope="module")
def table() -> dict[str, dict[str, str]]:
    deps: dict[str, dict[str, str]] = _toml(PACKAGING / "mobile-dependencies.toml")["dependencies"]
    return {_name(k): v for k, v in deps.items()}


def _runtime_dependencies() -> list[str]:
    return [_name(r) for r in _toml(ROOT / "pyproject.toml")["project"]["dependencies"]]


def _target_dependencies(project: dict[str, Any], target: str) -> set[str]:
    base = project["project"]["dependencies"]
    extra = project["tool"]["flet"][target].get("dependencies", [])
    return {_name(r) for r in [*base, *extra]}


def test_every_runtime_dependency_has_a_mobile_entry_and_every_entry_a_dependency(table: dict[str, dict[str, str]]) -> None:
    runtime = set(_runtime_dependencies())
    missing = sorted(runtime - table.keys())
    assert not missing, (f"packaging/mobile-dependencies.toml has no entry for {missing}: say whether each is "
                         "pure-python, built by Flet's mobile index, replaced by a fallback, or not shipped")
    stale = sorted(table.keys() - runtime)
    assert not stale, f"packaging/mobile-dependencies.toml lists {stale}, which pyproject.toml no longer depends on"


def test_every_entry_says_how_it_gets_onto_a_phone(table: dict[str, dict[str, str]]) -> None:
    for name, entry in table.items():
        assert entry.get("status") in STATUSES, f"{name}: status must be one of {sorted(STATUSES)}"
        assert entry.get("module"), f"{name}: give its import name (module = ...)"
        if entry["status"] == "fallback":
            assert len(entry.get("fallback", "")) > 20, f"{name}: say what the app uses instead (fallback = ...)"
        if entry["status"] == "not-shipped":
            assert len(entry.get("reason", "")) > 20, f"{name}: say why the device app does without it (reason = ...)"


def _top_level_imports(package: str) -> dict[str, set[str]]:
    """For each module imported at the top level of a file under `package`, the files that do so."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Try):  # `try: import x / except ImportError:` is a guarded import
                continue
            for n in names:
                found.setdefault(n.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def test_what_is_not_shipped_or_falls_back_is_never_imported_unguarded_by_the_device_app(
        table: dict[str, dict[str, str]]) -> None:
    imports: dict[str, set[str]] = {}
    for package in DEVICE_PACKAGES:
        for module, files in _top_level_imports(package).items():
            imports.setdefault(module, set()).update(files)
    for name, entry in table.items():
        if entry["status"] in ("not-shipped", "fallback"):
            assert entry["module"] not in imports, (
                f"{name} is {entry['status']} on mobile, yet {sorted(imports[entry['module']])} import "
                f"{entry['module']} at the top level: import it inside the function that needs it, or guard it")


def test_each_target_installs_what_its_status_says(flet_project: dict[str, Any], table: dict[str, dict[str, str]]) -> None:
    for target in MOBILE:
        installed = _target_dependencies(flet_project, target)
        for name, entry in table.items():
            mobile_name = _name(entry.get("mobile_name", name))
            if entry["status"] in ("pure-python", "mobile-index"):
                assert mobile_name in installed, f"{target}: {mobile_name} ({entry['status']}) is not in its dependencies"
            else:
                assert name not in installed, f"{target}: {name} is {entry['status']} but is installed"
    for target in DESKTOP:
        installed = _target_dependencies(flet_project, target)
        assert {"zxing-cpp", "opencv-python-headless"} <= installed, f"{target}: the desktop decoder and camera"


def test_runtime_pins_match_between_the_repository_and_the_build(flet_project: dict[str, Any]) -> None:
    repo = {_name(r): r.split(";")[0].strip() for r in _toml(ROOT / "pyproject.toml")["project"]["dependencies"]}
    for requirement in flet_project["project"]["dependencies"]:
        name = _name(requirement)
        assert requirement == repo[name], f"{name}: the build pins {requirement!r}, the repository {repo[name]!r}"


def test_every_target_has_its_section_and_the_app_its_identity(flet_project: dict[str, Any]) -> None:
    flet = flet_project["tool"]["flet"]
    for target in TARGETS:
        assert isinstance(flet.get(target), dict), f"[tool.flet.{target}] is missing"
    for key in ("product", "org", "bundle_id", "company"):
        assert flet.get(key), f"[tool.flet] {key} is missing"
    assert re.fullmatch(r"[a-z][a-z0-9]*(\.[a-z][a-z0-9_]*)+", flet["bundle_id"]), "bundle_id: reverse domain, lower case"
    assert flet_project["project"]["name"] and flet_project["project"]["version"]


def test_the_camera_is_permitted_where_it_is_used(flet_project: dict[str, Any]) -> None:
    flet = flet_project["tool"]["flet"]
    assert "camera" in flet.get("permissions", [])
    assert flet["android"]["permission"].get("android.permission.CAMERA") is True
    assert flet["android"]["feature"].get("android.hardware.camera") is False, "a handheld without a camera still installs it"
    for target in ("ios", "macos"):
        text = flet[target]["info"].get("NSCameraUsageDescription", "")
        assert "barcode" in text.lower(), f"{target}: NSCameraUsageDescription must tell people why"
    assert flet["macos"]["entitlement"].get("com.apple.security.device.camera") is True
    for target in MOBILE:
        assert any(_name(r) == "flet-camera" for r in flet[target]["dependencies"]), f"{target}: flet-camera"
        pin = next(r for r in flet[target]["dependencies"] if _name(r) == "flet-camera")
        assert pin == "flet-camera==1.0.5", "flet-camera is pinned exactly like flet"


def test_the_entry_module_exists_and_its_imports_resolve(flet_project: dict[str, Any]) -> None:
    app = flet_project["tool"]["flet"]["app"]
    assert app["path"] == "src" and app["module"] == "main"
    entry = PACKAGING / f"{app['module']}.py"
    tree = ast.parse(entry.read_text(encoding="utf-8"))
    assert any(isinstance(n, ast.FunctionDef) and n.name == "main" for n in tree.body), f"{entry} defines no main(page)"
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(module, alias.name), f"{entry.name}: {node.module} has no {alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                assert importlib.util.find_spec(alias.name) is not None, f"{entry.name}: no module {alias.name}"


def test_staging_copies_the_app_the_entry_and_the_icons(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("packaging_stage", PACKAGING / "stage.py")
    assert spec is not None and spec.loader is not None
    stage = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stage)
    out = tmp_path / "src"
    stage.stage(ROOT, out)
    for name in DEVICE_PACKAGES:
        assert (out / name / "__init__.py").exists()
    assert (out / "main.py").read_text() == (PACKAGING / "main.py").read_text()
    assert not list(out.rglob("__pycache__"))
    assert (out / "assets" / "icon.png").exists()


def test_the_icon_is_a_square_png_big_enough_for_every_store() -> None:
    icon = ROOT / "assets" / "icon.png"
    assert icon.exists(), "assets/icon.png: Flet makes every platform's icons from it"
    img = cv2.imread(str(icon), cv2.IMREAD_UNCHANGED)
    assert img is not None, f"{icon} is not an image"
    h, w = img.shape[:2]
    assert h == w and w >= 1024, f"{icon} is {w}x{h}: stores want a square of at least 1024 px"
