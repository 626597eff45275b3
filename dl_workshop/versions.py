"""Which JAX releases reproduce this book: its headline values, release by release.

:func:`headline_values` computes the random values the book prints in
whatever JAX is installed, with ``jax_threefry_partitionable`` as it is set.
``make versions`` (``scripts/jax_versions.py``) runs it in throwaway
environments, one per JAX release and per setting of the flag, and writes the
results, with their provenance, to ``versions.json`` beside this module.
Chapter 12 renders that file with :func:`version_table`;
``tests/test_canary.py`` recomputes the pinned release's rows and compares
them with it.

It uses only what every release in the file has: legacy keys
(``random.PRNGKey``, which give the same draws as ``random.key``, a name JAX
0.4.13 does not know) and the solutions of :mod:`dl_workshop.jax_idioms`.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import numpy as np
from jax import lax, random

from dl_workshop.jax_idioms import grw_draw, randomness_ex_1, randomness_ex_2, randomness_ex_3
from dl_workshop.reproducibility import fingerprint

DATA = Path(__file__).with_suffix(".json")


@dataclass(frozen=True)
class Headline:
    """One value of the matrix: its name, a short label, and the chapters that print it."""

    name: str
    label: str
    pages: tuple[str, ...] = ()


# In the order of the table's columns. The canary (tests/test_canary.py)
# compares every one of them with the pinned release's row.
HEADLINES = (
    Headline("random.normal(key(42))", "normal of key 42", ("02-prng-keys",)),
    Headline("random.split(key(0))", "split of key 0"),
    Headline("random.uniform(key(0), (3,))", "uniforms of key 0"),
    Headline("random.normal(key(44), (5,))", "5 normals of key 44", ("03-many-draws",)),
    Headline("grw_draw(key(44), 100) final", "walk end", ("04-gaussian-random-walks",)),
    Headline("chapter 2: c, d", "ch. 2 split draws", ("02-prng-keys",)),
    Headline("exercise 1: final position", "ex. 1 grid walk end", ("05-brownian-motion-on-a-grid",)),
    Headline("exercise 2: first piece", "ex. 2 first piece", ("06-stick-breaking",)),
    Headline("exercise 2: pieces (fingerprint)", "ex. 2 pieces", ("06-stick-breaking",)),
    Headline("exercise 3: walks (fingerprint)", "ex. 3 walks", ("07-many-random-walks",)),
    # Not printed by the book: what the two results above are computed from
    # (the beta draws before the scan, the normal steps before they are summed).
    # Where a result changes and these do not, the arithmetic changed, not the draws.
    Headline("exercise 2: fractions (fingerprint)", "ex. 2 fractions"),
    Headline("exercise 3: steps (fingerprint)", "ex. 3 steps"),
    # How many of those steps differ when drawn one key at a time (lax.map)
    # instead of all at once (vmap): 0 unless the compiled code differs between
    # a loop over single draws and a vectorised batch.
    Headline("exercise 3: steps drawn at once that differ one at a time", "ex. 3 steps, batch ≠ single"),
)
FINGERPRINT_DIGITS = 16


def _text(values: Any) -> list[str]:
    """Each number as the shortest text that gives it back in its own dtype."""
    return [str(value) for value in np.asarray(values).ravel()]


def headline_values() -> dict[str, list[str]]:
    """The book's headline values in the JAX installed, as texts, by name.

    Floats are written as the shortest text that gives back the same float32,
    fingerprints (:func:`~dl_workshop.reproducibility.fingerprint`) by their
    first 16 hex digits.

    >>> values = headline_values()
    >>> [headline.name for headline in HEADLINES] == list(values)
    True
    >>> values["exercise 1: final position"]  # where exercise 1's 200-step grid walk ends
    ['-13', '-9']
    """
    key42, key0, key44 = random.PRNGKey(42), random.PRNGKey(0), random.PRNGKey(44)
    # Chapter 2: a draw from the second half of a split, then from a split of that.
    _, k2 = random.split(key42)
    k3 = random.split(k2, num=3)[0]
    _, pieces = randomness_ex_2(key44, num_breaks=30, concentration=5)
    _, walks = randomness_ex_3(key44, num_realizations=20, grw_draw=grw_draw, num_steps=1000)
    fractions = jax.vmap(lambda k: random.beta(k, a=1.0, b=5))(random.split(key44, 30))
    step_keys = jax.vmap(lambda k: random.split(k, 1000))(random.split(key44, 20))
    steps = jax.vmap(jax.vmap(random.normal))(step_keys)
    flat_keys = step_keys.reshape((-1,) + step_keys.shape[2:])  # legacy keys: (20000, 2)
    one_at_a_time = lax.map(random.normal, flat_keys).reshape(steps.shape)
    values = [
        random.normal(key42),
        random.key_data(random.split(key0)) if hasattr(random, "key_data") else random.split(key0),
        random.uniform(key0, (3,)),
        random.normal(key44, (5,)),
        grw_draw(key44, 100)[0],
        np.array([random.normal(k2), random.normal(k3)]),
        randomness_ex_1(random.split(key44, 200), np.array([0, 0]))[0],
        pieces[0],
    ]
    texts = [_text(value) for value in values]
    texts += [[fingerprint(result)[:FINGERPRINT_DIGITS]] for result in (pieces, walks, fractions, steps)]
    texts.append([str(int((steps != one_at_a_time).sum()))])
    return {headline.name: text for headline, text in zip(HEADLINES, texts, strict=True)}


def measured_row() -> dict[str, Any]:
    """This process's row of the matrix: versions, the flag's setting, the values."""
    import jaxlib

    return {
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "numpy": np.__version__,
        "partitionable": bool(jax.config.jax_threefry_partitionable),
        "values": headline_values(),
    }


def load_matrix(path: Path = DATA) -> dict[str, Any]:
    """The matrix written by ``make versions``: ``provenance`` and ``rows``."""
    return json.loads(path.read_text())


def find_row(matrix: dict[str, Any], release: str, partitionable: bool) -> dict[str, Any] | None:
    """The matrix's row for JAX ``release`` with the flag at ``partitionable``, if measured."""
    for row in releases(matrix):
        if row["jax"] == release and row["partitionable"] == partitionable:
            return row
    return None


def release_key(release: str) -> tuple[int, ...]:
    """A release's number, for sorting: 0.10.0 comes after 0.9.2.

    >>> sorted(["0.10.0", "0.9.2"], key=release_key)
    ['0.9.2', '0.10.0']
    """
    return tuple(int(part) for part in release.split("."))


def releases(matrix: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of releases as installed, oldest first (not the experiments, run with XLA_FLAGS)."""
    rows = [row for row in matrix["rows"] if not row["xla_flags"]]
    return sorted(rows, key=lambda row: release_key(row["jax"]))


def differing_labels(before: dict[str, Any], row: dict[str, Any]) -> list[str]:
    """The labels of the headline values in which two rows differ."""
    return [h.label for h in HEADLINES if row["values"][h.name] != before["values"][h.name]]


def changes(matrix: dict[str, Any], partitionable: bool) -> dict[str, list[str]]:
    """{release: labels of the values that differ from the release before}, with the
    flag at ``partitionable``, for the releases where any do."""
    rows = [row for row in releases(matrix) if row["partitionable"] == partitionable]
    found = {row["jax"]: differing_labels(before, row) for before, row in itertools.pairwise(rows)}
    return {release: labels for release, labels in found.items() if labels}


def experiments(matrix: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of releases run again with XLA_FLAGS, to test an explanation."""
    return [row for row in matrix["rows"] if row["xla_flags"]]


def differences(values: dict[str, list[str]], expected: dict[str, list[str]]) -> list[str]:
    """One line per headline value that differs, naming it, both values and its chapters.

    >>> differences({"random.normal(key(42))": ["0.5"]}, {"random.normal(key(42))": ["0.25"]})
    ['random.normal(key(42)), printed in 02-prng-keys: expected [0.25], got [0.5]']
    """
    lines = []
    for headline in HEADLINES:
        got, wanted = values.get(headline.name), expected.get(headline.name)
        if got != wanted:
            shown = ["missing" if side is None else f"[{', '.join(side)}]" for side in (wanted, got)]
            where = f"printed in {', '.join(headline.pages)}" if headline.pages else "not printed in the book"
            lines.append(f"{headline.name}, {where}: expected {shown[0]}, got {shown[1]}")
    return lines


def _cell(texts: list[str]) -> str:
    """What a table cell shows: one or two numbers whole, the first of more then '…'."""
    return ", ".join(texts) if len(texts) <= 2 else f"{texts[0]}, …"


def version_table(matrix: dict[str, Any], partitionable: bool) -> Any:
    """The rows measured with the flag at ``partitionable``, as a styled pandas table.

    One row per release, oldest first; one column per headline value. A value
    that differs from the row above (the previous release, same flag) is marked
    with ▸ and highlighted (CSS class ``changed``).
    """
    import pandas as pd

    rows = [row for row in releases(matrix) if row["partitionable"] == partitionable]
    shown, changed = [], []
    for above, row in zip([None, *rows], rows, strict=False):  # the last row is above none
        cells = {
            "JAX": row["jax"] if row["jaxlib"] == row["jax"] else f"{row['jax']} (jaxlib {row['jaxlib']})",
            "default?": "yes" if row["default"] else "no",
        }
        marks = {name: False for name in cells}
        differing = differing_labels(above, row) if above is not None else []
        for headline in HEADLINES:
            marks[headline.label] = headline.label in differing
            cells[headline.label] = ("▸ " if marks[headline.label] else "") + _cell(row["values"][headline.name])
        shown.append(cells)
        changed.append(marks)
    table = pd.DataFrame(shown)
    setting = "on" if partitionable else "off"
    return (
        table.style.hide(axis="index")
        .set_uuid(f"versions-{setting}")
        .set_td_classes(pd.DataFrame(changed).replace({True: "changed", False: ""}))
        .set_caption(f"jax_threefry_partitionable {setting}: ▸ marks a value that differs from the release above")
        # Focusable, so that a keyboard can scroll it sideways (axe-core).
        .set_table_attributes('class="version-table" tabindex="0"')
    )


def upgrade_table(matrix: dict[str, Any], release: str) -> Any:
    """What moving the book from JAX ``release`` to each release measured changes.

    Each release with the flag at its own default (what a learner who installs
    it gets): the printed values that differ from ``release``'s, and the
    chapters that print them, to re-read. A styled pandas table.
    """
    import pandas as pd

    pinned = next(row for row in releases(matrix) if row["jax"] == release and row["default"])
    groups: list[tuple[list[str], list[Headline]]] = []  # consecutive releases that change the same
    for row in releases(matrix):
        if not row["default"]:
            continue
        changed = [
            headline
            for headline in HEADLINES
            if headline.pages and row["values"][headline.name] != pinned["values"][headline.name]
        ]
        if groups and groups[-1][1] == changed and release not in (groups[-1][0][-1], row["jax"]):
            groups[-1][0].append(row["jax"])
        else:
            groups.append(([row["jax"]], changed))
    shown = []
    for names, changed in groups:
        pages = sorted({page for headline in changed for page in headline.pages})
        shown.append(
            {
                "JAX": names[0]
                + (f" to {names[-1]}" if len(names) > 1 else "")
                + (" (pinned)" if names == [release] else ""),
                "printed values that differ": "; ".join(headline.label for headline in changed) or "none",
                "chapters to re-read": ", ".join(page.split("-")[0] for page in pages) or "none",
            }
        )
    return (
        pd.DataFrame(shown)
        .style.hide(axis="index")
        .set_uuid("upgrade")
        .set_caption(f"Moving the book from JAX {release} to another release (each with its default setting)")
        .set_table_attributes('class="version-table upgrade-table" tabindex="0"')
    )


def report(matrix: dict[str, Any], release: str) -> str:
    """Markdown: this JAX's rows (flag at its default and flipped) against ``release``'s.

    ``python -m dl_workshop.versions RELEASE`` prints it; the weekly workflow
    runs it with the newest JAX against the pinned release.
    """
    lines = [f"## JAX {jax.__version__} against JAX {release} (dl_workshop/versions.json)", ""]
    default = bool(jax.config.jax_threefry_partitionable)
    for partitionable in (default, not default):
        with jax.threefry_partitionable(partitionable):
            row = measured_row()
        expected = find_row(matrix, release, partitionable)
        setting = f"jax_threefry_partitionable={partitionable}" + (" (default)" if partitionable == default else "")
        lines += [f"### {setting}", "", "| value | this JAX |", "| --- | --- |"]
        lines += [f"| `{name}` | {', '.join(texts)} |" for name, texts in row["values"].items()]
        if expected is None:
            lines += ["", f"JAX {release} has no row with this setting in the matrix."]
        else:
            found = differences(row["values"], expected["values"])
            lines += ["", f"Differs from JAX {release}:" if found else f"The same as JAX {release}."]
            lines += [f"- {line}" for line in found]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    print(report(load_matrix(), sys.argv[1]))
