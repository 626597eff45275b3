"""scripts/refresh_cache.py: which pages a change to dl_workshop, or to the environment, re-executes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts import refresh_cache

ROOT = Path(__file__).resolve().parents[1]


def test_a_page_uses_the_modules_it_imports_or_includes():
    page = (ROOT / "book" / "05-brownian-motion-on-a-grid.md").read_text()
    assert {"checkers", "jax_idioms", "environment"} <= refresh_cache.modules_used(page)


def test_a_change_reaches_the_modules_that_import_the_changed_one():
    assert "jax_idioms" in refresh_cache.affected_modules({"_arguments"})
    assert "checkers" in refresh_cache.affected_modules({"jax_idioms"})


def test_a_change_to_checks_does_not_reach_chapters_without_exercises():
    affected = refresh_cache.affected_modules({"checkers"})
    page = (ROOT / "book" / "02-prng-keys.md").read_text()
    assert not refresh_cache.modules_used(page) & affected


def test_a_module_s_data_file_counts_as_the_module(tmp_path):
    (tmp_path / "versions.py").write_text("DATA = 'versions.json'\n")
    (tmp_path / "versions.json").write_text("{}\n")
    (tmp_path / "other.py").write_text("\n")
    before = refresh_cache.module_hashes(tmp_path)
    (tmp_path / "versions.json").write_text('{"rows": []}\n')
    after = refresh_cache.module_hashes(tmp_path)
    assert before["versions"] != after["versions"]
    assert before["other"] == after["other"]


def test_the_instructors_page_is_read_again_with_the_chapter_it_pastes_from():
    page = (ROOT / "book" / "instructors.md").read_text()
    assert refresh_cache.pasted_from(page) == {"12-reproducibility-across-versions.md"}
    assert refresh_cache.pasted_from("{glue:text}`02-prng-keys.md::jax_a`") == {"02-prng-keys.md"}


def test_a_cache_record_made_in_another_checkout_names_this_checkout_s_page():
    """After the repository moved, or its _build was copied, records name the old path."""
    assert refresh_cache.page_of("/elsewhere/book/02-prng-keys.md") == ROOT / "book" / "02-prng-keys.md"
    assert refresh_cache.page_of("/elsewhere/book/no-such-page.md") is None


def build_with_cache(build: Path, environment: str | None) -> Path:
    """A build folder with an execution cache, made in ``environment`` (None: a record without one)."""
    (build / ".jupyter_cache").mkdir(parents=True)
    (build / ".doctrees").mkdir()
    (build / ".doctrees" / "environment.pickle").write_bytes(b"")
    record = {"modules": refresh_cache.module_hashes(refresh_cache.PACKAGE)}
    if environment is not None:
        record["environment"] = environment
    (build / ".dl_workshop-hashes.json").write_text(json.dumps(record))
    return build


@pytest.mark.parametrize("environment", ["another lock or Python", None], ids=["changed", "unknown"])
def test_no_cached_output_outlives_the_environment_it_was_made_in(tmp_path, environment):
    build = build_with_cache(tmp_path, environment)
    refresh_cache.main(build)
    assert not (build / ".jupyter_cache").exists()
    assert not (build / ".doctrees" / "environment.pickle").exists()  # so that Sphinx reads every page again
    record = json.loads((build / ".dl_workshop-hashes.json").read_text())
    assert record["environment"] == refresh_cache.environment_hash()


def test_the_cache_is_kept_in_the_same_environment(tmp_path):
    build = build_with_cache(tmp_path, refresh_cache.environment_hash())
    refresh_cache.main(build)
    assert (build / ".jupyter_cache").exists()
    assert (build / ".doctrees" / "environment.pickle").exists()
