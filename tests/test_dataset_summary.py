"""The README's dataset tables come from datasets/summary.py; on a toy graph every cell is known."""

from __future__ import annotations

from pathlib import Path

from datasets.adapter import DataContext
from datasets.loading import load_dataset
from datasets.summary import class_table, node_table, relation_table, summary_markdown
from tests.test_user_folder import write_folder


def test_summary_tables_of_a_toy_folder(tmp_path: Path) -> None:
    mmhn = load_dataset(str(write_folder(tmp_path / "toy")), DataContext(None, tmp_path))
    nodes = node_table(mmhn).splitlines()
    assert [c.strip() for c in nodes[2].split("|")[1:-1]] == ["author", "6", "4-d, 6 (100.0 %)", "absent (structural)"]
    assert [c.strip() for c in nodes[3].split("|")[1:-1]] == ["paper (target)", "30", "3-d, 30 (100.0 %)", "2-d, 15 (50.0 %)"]
    assert "| paper -written_by-> author | 60" in relation_table(mmhn)
    classes = [[c.strip() for c in line.split("|")[1:-1]] for line in class_table(mmhn).splitlines()[2:]]
    # 29 labelled papers: odd i -> db (14), even i < 29 -> ml (15); images exactly on even i
    assert classes == [["db", "14 (48.3 %)", "14 (100.0 %)", "0 (0.0 %)"], ["ml", "15 (51.7 %)", "15 (100.0 %)", "15 (100.0 %)"],
                       ["(unlabelled, in the graph)", "1", "", ""]]
    assert "`main` 10/9/10 (checksum" in summary_markdown(mmhn) and "Metapaths: paper-author-paper." in summary_markdown(mmhn)
