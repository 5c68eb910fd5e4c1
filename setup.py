"""The build step that compiles the translations (everything else is in pyproject.toml).

The compiled catalogs (`locales/*/LC_MESSAGES/messages.mo`) are not kept in git, and without them
every command stops with "Found locale 'zh_Hant' but this language is not compiled!". So each
build compiles them from the `.po` files: a wheel (`pip install .`) carries them in `locales/`
beside its packages, where bot/i18n.py looks; an editable install (`pip install -e .`) writes
them in place, in the source tree it runs from.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
CATALOGS = "locales/*/LC_MESSAGES/messages.po"


def compile_catalog(po_file: Path, mo_file: Path) -> None:
    """Compile one catalog as `pybabel compile` does (fuzzy translations left out)."""
    with po_file.open("rb") as source:
        catalog = read_po(source, locale=po_file.parts[-3])
    mo_file.parent.mkdir(parents=True, exist_ok=True)
    with mo_file.open("wb") as target:
        write_mo(target, catalog, use_fuzzy=False)


class BuildPyWithCatalogs(build_py):
    """build_py, then the catalogs compiled into the build (or in place when editable)."""

    def run(self) -> None:
        super().run()
        catalogs = sorted(ROOT.glob(CATALOGS))
        if not catalogs:
            raise SystemExit(f"no translation catalogs ({CATALOGS}) under {ROOT}")
        target = ROOT if self.editable_mode else Path(self.build_lib)
        for po_file in catalogs:
            relative = po_file.relative_to(ROOT).with_suffix(".mo")
            compile_catalog(po_file, target / relative)


setup(cmdclass={"build_py": BuildPyWithCatalogs})
