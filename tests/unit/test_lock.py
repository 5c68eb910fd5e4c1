"""requirements.lock is in step with pyproject.toml, and the Dockerfile installs from it.

No Docker engine runs where the suite runs, so the Dockerfile is read, not built: the locked
dependencies are installed (hash-checked) before any source is copied, so a code change reuses
that layer; the webhook's port is exposed and a health check asks /healthz.
"""

from __future__ import annotations

import re

from packaging.requirements import Requirement

from tools.lock import DIGEST_PREFIX, LOCK, ROOT, digest, requirements

PYTHON = {"python_version": "3.11", "python_full_version": "3.11.9"}  # the image's
SOURCES = ("bot", "handlers", "knowledge", "grievances", "db", "locales")


def locked() -> dict[str, tuple[Requirement, list[str]]]:
    """Each locked package that applies on the image's Python: its pin and its hashes."""
    logical = re.sub(r"\\\n\s*", " ", LOCK.read_text(encoding="utf-8"))
    pins: dict[str, tuple[Requirement, list[str]]] = {}
    for line in logical.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        spec, *hashes = line.split(" --hash=")
        requirement = Requirement(spec.strip())
        if requirement.marker is None or requirement.marker.evaluate(PYTHON):
            pins[requirement.name.lower()] = (requirement, hashes)
    return pins


def test_the_lock_was_made_from_the_current_requirements() -> None:
    first = LOCK.read_text(encoding="utf-8").splitlines()[0]
    assert first == DIGEST_PREFIX + digest(requirements()), (
        "pyproject.toml's dependencies changed since requirements.lock was made: run `make lock`"
    )


def test_every_requirement_is_pinned_within_its_range_with_hashes() -> None:
    pins = locked()
    for wanted in map(Requirement, requirements()):
        pin, _ = pins[wanted.name.lower()]
        (version,) = (s.version for s in pin.specifier if s.operator == "==")
        assert wanted.specifier.contains(version, prereleases=True), f"{pin} breaks {wanted}"
    for pin, hashes in pins.values():
        assert [s.operator for s in pin.specifier] == ["=="], f"{pin} is not pinned"
        assert hashes, f"{pin} has no hash"
        assert all(h.startswith("sha256:") for h in hashes), f"{pin}: {hashes}"


def dockerfile() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def index_of(lines: list[str], pattern: str) -> int:
    matches = [i for i, line in enumerate(lines) if re.search(pattern, line)]
    assert matches, f"the Dockerfile has no line matching {pattern!r}"
    return matches[0]


def test_the_image_installs_the_lock_before_the_source() -> None:
    lines = dockerfile()
    copy_lock = index_of(lines, r"^COPY requirements\.lock ")
    install_lock = index_of(lines, r"^RUN pip install --require-hashes .*-r requirements\.lock")
    first_source = min(index_of(lines, rf"^COPY {name} ") for name in SOURCES)
    install_project = index_of(lines, r"^RUN pip install --no-deps --no-build-isolation ")
    assert copy_lock < install_lock < first_source < install_project
    assert not any(re.match(r"^COPY (\. |pyproject)", line) for line in lines[:install_lock])


def test_the_image_exposes_the_webhook_and_checks_its_health() -> None:
    lines = dockerfile()
    exposed = lines[index_of(lines, r"^EXPOSE ")].split()[1:]
    assert "8080" in exposed  # HUHUQING_WEBHOOK_LISTEN's default port
    check = lines[index_of(lines, r"^HEALTHCHECK ")]
    assert "/healthz" in check
    assert "HUHUQING_WEBHOOK_LISTEN" in check
    assert "--start-period=" in check
