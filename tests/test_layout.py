"""The library's layout is its design: the folders are the pipeline's stages, imports run one
way along it, no function grows past ~80 lines without saying why, and the README's layout and
docs/architecture.md name every module that is in the tree."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "spatial"
CORE = {
    "layers", "crs", "districts", "ids", "rows", "auth", "clock", "collector", "allocator",
    "frames", "i18n", "shapes",
}  # fmt: skip
# what each part of the library may import from spatial (besides itself)
MAY_IMPORT = {
    "core": CORE,
    "store": CORE,
    "ingest": CORE | {"store"},
    "figures": CORE | {"store"},
    "outputs": CORE | {"store", "figures", "ingest"},
}
MAX_LINES = 85  # "about 80"
LONG_ON_PURPOSE = "Long on purpose"


def _modules() -> list[Path]:
    return sorted(
        p
        for p in LIBRARY.rglob("*.py")
        if "versions" not in p.parts and "pages" not in p.parts and p.name != "__init__.py"
    )


def _part(path: Path) -> str:
    rel = path.relative_to(LIBRARY)
    return rel.parts[0] if len(rel.parts) > 1 else "core"


def _spatial_imports(path: Path) -> set[str]:
    """The first name after ``spatial.`` of every import in the module (at any depth)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
            if node.module == "spatial":
                names = [f"spatial.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {n.split(".")[1] for n in names if n.startswith("spatial.")}
    return found


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(LIBRARY)))
def test_imports_run_one_way_along_the_pipeline(path):
    part = _part(path)
    if part in ("ui",) or path.name == "cli.py":
        return  # the shell may call every stage
    allowed = MAY_IMPORT[part] | {part}
    if part == "core":
        allowed = CORE
    wrong = _spatial_imports(path) - allowed
    assert not wrong, f"{path.relative_to(ROOT)} ({part}) imports {sorted(wrong)}"
    imported = {
        a.name.split(".")[0]
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Import)
        for a in node.names
    } | {
        node.module.split(".")[0]
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert not imported & {"streamlit", "streamlit_folium"}, "Streamlit only in spatial/ui"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(LIBRARY)))
def test_no_long_function_without_a_reason(path):
    source = path.read_text().splitlines()
    for node in ast.walk(ast.parse("\n".join(source))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            head = "\n".join(source[node.lineno - 1 : node.lineno + 5])
            assert length <= MAX_LINES or LONG_ON_PURPOSE in head, (
                f"{path.relative_to(ROOT)}:{node.lineno} {node.name} is {length} lines"
            )


def test_the_baseline_migration_says_why_it_is_long():
    baseline = next((LIBRARY / "store" / "migrations" / "versions").glob("0001_*.py"))
    assert LONG_ON_PURPOSE in baseline.read_text()


def _readme_layout() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Layout") :]
    return section[: section.index("\n## ", 1)]


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(LIBRARY)))
def test_the_readme_layout_lists_every_module_under_its_folder(path):
    layout = _readme_layout()
    rel = path.relative_to(LIBRARY)
    for folder in rel.parts[:-1]:
        if folder != "migrations":
            assert re.search(rf"^\s+{re.escape(folder)}/", layout, re.M), folder
    if "migrations" not in rel.parts:
        assert re.search(rf"(^\s+|[ ,:(]){re.escape(rel.name)}\b", layout, re.M), rel


def test_the_architecture_page_names_every_folder_and_stage_module():
    page = (ROOT / "docs" / "architecture.md").read_text()
    folders = {p.name for p in LIBRARY.iterdir() if p.is_dir() and p.name != "__pycache__"}
    for folder in folders:
        assert f"spatial/{folder}/" in page, folder
    for path in _modules():
        part = _part(path)
        if part in ("ingest", "store", "figures", "outputs") and path.parent.name == part:
            assert f"`{path.stem}`" in page or f"{path.stem}." in page, path.stem


def test_every_audited_action_has_a_label_in_both_languages():
    """The audit page names each action in the reader's language: every action code the
    library records (``record_event(user, "code", …)``, ``_audited_setting(…, "code", …)``)
    has a label."""
    from spatial.ui.audit import ACTION_LABELS

    codes = set()
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            position = {"record_event": 1, "_audited_setting": 2}.get(name)
            if position is not None and len(node.args) > position:
                arg = node.args[position]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    codes.add(arg.value)
    assert len(codes) > 15  # the scan found the library's actions
    assert codes - set(ACTION_LABELS) == set()


def _download_buttons(path: Path) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "download_button"
    ]


UI_MODULES = sorted((LIBRARY / "ui").rglob("*.py"))


@pytest.mark.parametrize(
    "path",
    [p for p in UI_MODULES if _download_buttons(p)],
    ids=lambda p: str(p.relative_to(LIBRARY)),
)
def test_every_download_button_leaves_the_page_as_it_is(path):
    """A download does not rerun the page. A rerun redraws a page of 10⁵ projects for nothing,
    and with a file made when it is asked for (``data`` a callable, streamlit's deferred
    download) it races the download: the run that follows the click can drop the file before
    the browser fetches it (a CI run waited 30 s for the 项目 page's CSV that never came)."""
    for call in _download_buttons(path):
        given = {k.arg: k.value for k in call.keywords}
        assert "on_click" in given, f"{path.name}:{call.lineno} download_button without on_click"
        value = given["on_click"]
        assert isinstance(value, ast.Constant) and value.value == "ignore", (
            f'{path.name}:{call.lineno} download_button(on_click=…) must be "ignore"'
        )
