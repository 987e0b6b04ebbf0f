"""`smartcart optimize` entry point: output JSON, exit codes, one-line errors."""

from __future__ import annotations

import json

import pytest

from optimizer.cli import main

PROBLEM = {
    "items": ["milk", "bread", "eggs"],
    "stores": ["A", "B", "C"],
    "cost": [[1, 5, 1], [5, 1, 1], [2, None, 1]],
    "store_cost": [1, 1, 10],
    "max_stores": None,
}


def write(tmp_path, obj, name="p.json"):
    path = tmp_path / name
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return str(path)


def test_optimal_problem(tmp_path, capsys):
    assert main(["optimize", "--problem", write(tmp_path, PROBLEM)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {
        "status": "optimal",
        "objective": 6.0,
        "open_stores": ["A", "B"],
        "assignment": {"milk": "A", "bread": "B", "eggs": "A"},
    }


def test_without_leading_subcommand(tmp_path, capsys):
    assert main(["--problem", write(tmp_path, {**PROBLEM, "max_stores": 1})]) == 0
    assert json.loads(capsys.readouterr().out)["objective"] == 9.0


def test_orlib(orlib_dir, capsys):
    assert main(["optimize", "--orlib", str(orlib_dir / "cap71.txt")]) == 0
    assert json.loads(capsys.readouterr().out)["objective"] == pytest.approx(932615.75, rel=1e-6)


def test_infeasible_prints_status_and_exits_1(tmp_path, capsys):
    problem = {**PROBLEM, "cost": [[1, 5, 1], [5, 1, 1], [None, None, None]]}
    assert main(["optimize", "--problem", write(tmp_path, problem)]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "infeasible" and out["infeasible_item"] == "eggs"


@pytest.mark.parametrize(
    "content",
    ["{not json", json.dumps({"items": ["a"]}), json.dumps({**PROBLEM, "cost": [[1, 2]]})],
)
def test_malformed_input_exits_2_with_one_line(tmp_path, capsys, content):
    assert main(["optimize", "--problem", write(tmp_path, content)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("smartcart optimize: error:")


@pytest.mark.parametrize(
    "argv",
    [[], ["--problem"], ["--problem", "a.json", "--orlib", "b.txt"], ["--time-limit", "x", "--orlib", "b"]],
)
def test_usage_errors_exit_2(argv, capsys):
    assert main(["optimize", *argv]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_missing_file_exits_2(tmp_path, capsys):
    assert main(["optimize", "--orlib", str(tmp_path / "nope.txt")]) == 2
    assert "cannot read" in capsys.readouterr().err
