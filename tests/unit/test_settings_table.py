"""docs/CONVENTIONS.md holds the table `helios settings` makes from the variables."""

from __future__ import annotations

from helios.settings import BEGIN, END, every, table
from tests.harness import ROOT


def test_the_docs_table_is_the_generated_one() -> None:
    text = (ROOT / "docs" / "CONVENTIONS.md").read_text()
    held = text[text.index(BEGIN) + len(BEGIN):text.index(END)].strip("\n")
    assert held == table().strip("\n"), (
        "docs/CONVENTIONS.md's settings table is stale: paste the output of `helios settings` "
        "between its markers")


def test_every_variable_is_listed_once_with_a_meaning() -> None:
    names = [variable.name for variable in every()]
    assert len(names) == len(set(names))
    assert all(variable.doc for variable in every())
