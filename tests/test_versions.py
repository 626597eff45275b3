"""dl_workshop/versions.py: the version matrix, its tables and the weekly report.

The live comparison of the pinned release's rows with the file is the canary
(tests/test_canary.py); these tests use small made-up matrices.
"""

from __future__ import annotations

from dl_workshop import versions
from dl_workshop.versions import HEADLINES, experiments, releases, upgrade_table, version_table


def row(release: str, partitionable: bool, default: bool, xla_flags: str = "", **changed: list[str]) -> dict:
    """A row in which every headline value is ["1"] but those ``changed``, given by their labels."""
    values = {headline.name: changed.pop(headline.label, ["1"]) for headline in HEADLINES}
    assert not changed, f"no headline has the label {sorted(changed)}"
    return {
        "jax": release,
        "jaxlib": release,
        "numpy": "2.0",
        "partitionable": partitionable,
        "default": default,
        "xla_flags": xla_flags,
        "why": "",
        "values": values,
    }


MATRIX = {
    "provenance": {},
    "rows": [
        row("0.10.0", True, True, **{"walk end": ["3"]}),
        row("0.9.0", True, True),
        row("0.9.0", False, False),
        row("0.9.0", False, False, xla_flags="--some_flag"),
        row("0.10.0", False, False, **{"ex. 2 fractions": ["5"]}),
    ],
}


def test_releases_are_sorted_by_version_number_and_leave_out_the_experiments():
    found = [(r["jax"], r["partitionable"]) for r in releases(MATRIX)]
    assert found == [("0.9.0", True), ("0.9.0", False), ("0.10.0", True), ("0.10.0", False)]
    assert [r["xla_flags"] for r in experiments(MATRIX)] == ["--some_flag"]


def test_the_table_marks_exactly_the_values_that_differ_from_the_release_above():
    html = version_table(MATRIX, partitionable=True).to_html()
    assert html.index(">0.9.0<") < html.index(">0.10.0<")
    assert ">▸ 3<" in html
    assert html.count("▸") == 2  # the changed cell, and the caption that explains the mark
    assert html.count(" changed") == 1


def test_the_upgrade_table_names_printed_values_and_chapters_to_re_read():
    assert upgrade_table(MATRIX, "0.9.0").data.to_dict("records") == [
        {"JAX": "0.9.0 (pinned)", "printed values that differ": "none", "chapters to re-read": "none"},
        {"JAX": "0.10.0", "printed values that differ": "walk end", "chapters to re-read": "04"},
    ]


def test_a_value_the_book_does_not_print_sends_no_one_to_re_read_a_chapter():
    matrix = {"rows": [row("1.0", True, True), row("1.1", True, True, **{"ex. 3 steps": ["2"]})]}
    assert upgrade_table(matrix, "1.0").data["chapters to re-read"].tolist() == ["none", "none"]


def test_the_weekly_report_shows_this_jax_s_rows_and_what_differs(monkeypatch):
    measured = [row("0.11.0", True, True, **{"ex. 1 grid walk end": ["7", "7"]}), row("0.11.0", False, False)]
    monkeypatch.setattr(versions, "measured_row", lambda: measured.pop(0))
    text = versions.report(MATRIX, "0.9.0")
    assert "exercise 1: final position, printed in 05-brownian-motion-on-a-grid: expected [1], got [7, 7]" in text
    assert "The same as JAX 0.9.0." in text


def test_the_weekly_report_says_when_the_release_has_no_row(monkeypatch):
    monkeypatch.setattr(versions, "measured_row", lambda: row("0.11.0", True, True))
    assert "JAX 0.8.0 has no row with this setting in the matrix." in versions.report(MATRIX, "0.8.0")


def test_consecutive_releases_that_change_the_same_values_share_a_row():
    same_change = [row(release, True, True, **{"walk end": ["2"]}) for release in ("1.0", "1.1")]
    matrix = {"rows": [*same_change, row("1.2", True, True), row("1.3", True, True)]}
    assert upgrade_table(matrix, "1.2").data["JAX"].tolist() == ["1.0 to 1.1", "1.2 (pinned)", "1.3"]


def test_changes_name_each_release_whose_values_differ_from_the_release_before():
    assert versions.changes(MATRIX, partitionable=True) == {"0.10.0": ["walk end"]}
    assert versions.changes(MATRIX, partitionable=False) == {"0.10.0": ["ex. 2 fractions"]}
