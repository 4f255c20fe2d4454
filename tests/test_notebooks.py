"""The notebooks run top to bottom; kbquery.notebook does what its docstrings say."""

from __future__ import annotations

import datetime as dt
import doctest
import json
import subprocess
import sys

import pytest
from conftest import CASES, ROOT
from kbquery import decide, notebook
from kbquery.notebook import (
    Case,
    Grid,
    Rows,
    criteria_html,
    decide_many,
    graph,
    shift,
    sweep,
    thresholds,
)

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
THERAPY_TOO_SHORT = ROOT / "examples" / "therapy-too-short.json"


# ---------------------------------------------------------------------------- the notebooks

def test_there_are_notebooks():
    assert [p.name for p in NOTEBOOKS] == ["01-walkthrough.ipynb", "02-sensitivity.ipynb",
                                           "03-case-builder.ipynb", "04-policy-qa.ipynb",
                                           "05-policy-comparison.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs_and_opens_with_what_it_shows(path):
    book = json.loads(path.read_text(encoding="utf-8"))
    assert book["cells"][0]["cell_type"] == "markdown"
    for cell in book["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, path.name


# Executed by a process of its own: the kernel client's threads (ZeroMQ's, an event loop's) then
# never live in the test process, beside the threads and workers of the other tests.
# With widgets on the page, nbclient sometimes sees a kernel's reply only when its wait for it times
# out (jupyter/nbclient#312): a cell done in 0.3 s held notebook 03 for the whole timeout in 8 of 20 runs.
# The kernel client here waits in half-second slices, each of which looks at the socket afresh.
EXECUTE = """
import sys, time, nbclient, nbformat
from queue import Empty
from jupyter_client.channels import AsyncZMQSocketChannel

whole_wait = AsyncZMQSocketChannel.get_msg

async def get_msg(self, timeout=None):
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        left = 0.5 if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            return await whole_wait(self, timeout=min(0.5, left))
        except Empty:
            if deadline is not None and time.monotonic() >= deadline:
                raise

AsyncZMQSocketChannel.get_msg = get_msg
source, executed = sys.argv[1:]
book = nbformat.read(source, as_version=4)
nbclient.NotebookClient(book, timeout=120, kernel_name="python3",
                        resources={"metadata": {"path": str(__import__("pathlib").Path(source).parent)}}).execute()
nbformat.write(book, executed)
"""


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, tmp_path):
    pytest.importorskip("nbclient", reason="nbclient is not installed: `pip install -e '.[notebooks]'` to execute the notebooks")
    import nbformat

    executed = tmp_path / path.name
    run = subprocess.run([sys.executable, "-c", EXECUTE, str(path), str(executed)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-4000:]  # CellExecutionError names the cell
    book = nbformat.read(executed, as_version=4)
    assert sum(1 for c in book.cells if c.cell_type == "code" and c.get("outputs")) > 0
    errors = [o for c in book.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []


# ---------------------------------------------------------------------------- Case

@pytest.fixture
def case() -> Case:
    return Case.load(THERAPY_TOO_SHORT)


def test_with_sets_dotted_paths_and_keywords_and_leaves_the_original_alone(case):
    changed = case.with_({"pain.score": 7, "conservative_therapy.end_date": "2026-01-10"}, request__side="right")
    assert changed["pain.score"] == 7
    assert changed["conservative_therapy.end_date"] == "2026-01-10"
    assert changed["request.side"] == "right"
    assert case["pain.score"] == 8 and case["request.side"] == "left"
    assert case.data == json.loads(THERAPY_TOO_SHORT.read_text())


def test_with_creates_objects_takes_dates_and_indexes_lists(case):
    changed = case.with_(continuation__pcp_notified=True, pain__onset_date=dt.date(2025, 8, 1),
                         conservative_therapy__modalities__1="home_exercise")
    assert changed.data["continuation"] == {"pcp_notified": True}
    assert changed["pain.onset_date"] == "2025-08-01"
    assert changed["conservative_therapy.modalities"] == ["medication", "home_exercise"]
    appended = case.with_({"conservative_therapy.modalities[2]": "other"})
    assert appended["conservative_therapy.modalities"] == ["medication", "physical_therapy", "other"]


def test_none_removes_a_field(case):
    removed = case.with_(pain__below_l5=None, provocation_tests=None, member__nothing_here=None)
    assert "below_l5" not in removed.data["pain"] and "provocation_tests" not in removed.data
    assert removed.get("pain.below_l5") is None and case["pain.below_l5"] is True
    assert removed.decide().missing["I.C"] == ["pain.below_l5", "pain.radiculopathy"]
    first_removed = case.with_({"conservative_therapy.modalities.0": None})
    assert first_removed["conservative_therapy.modalities"] == ["physical_therapy"]


def test_a_path_through_a_value_is_refused(case):
    with pytest.raises(KeyError, match="pain.score.x"):
        case.with_({"pain.score.x": 1})
    with pytest.raises(KeyError):
        case["pain.nothing"]


def test_a_test_file_loads_as_its_case_and_decides_like_decide():
    path = CASES / "I" / "I.E"
    files = sorted(path.glob("*.json"))
    c = Case.load(files[0])
    assert c.data == json.loads(files[0].read_text())["case"]
    assert c.decide().to_dict() == decide(c.data).to_dict()


def test_apply_a_counterfactual_and_explain(case):
    e = case.explain()
    fixed = case.apply(e.counterfactuals[0])
    assert fixed.decide().determination == e.counterfactuals[0].determination
    assert case.decide().determination == "not_medically_necessary"


# ---------------------------------------------------------------------------- many cases

def test_decide_many_names_variants(case):
    table = decide_many({"as is": case, "earlier": case.with_(conservative_therapy__start_date="2025-10-01")})
    assert [name for name, _ in table] == ["as is", "earlier"]
    assert table["earlier"].determination == "more_information_needed"
    assert table.rows()[0] == {"name": "as is", "determination": "not_medically_necessary",
                               "request_kind": "initial_diagnostic", "unmet": ["I.E"],
                               "missing": ["pain.radiculopathy"]}
    assert "NOT MEDICALLY NECESSARY" in table._repr_html_()
    assert [n for n, _ in decide_many([case.data, case])] == ["example-therapy-too-short"] * 2


def test_sweep_shape_and_values_match_deciding_each_case(case):
    def therapy_days(c, n):
        return c.with_(conservative_therapy__start_date=shift(c["conservative_therapy.end_date"], days=1 - n))

    xs, ys = [True, False], [20, 27, 28, 40]
    grid = sweep(case, "pain.radiculopathy", xs, therapy_days, ys)
    assert isinstance(grid, Grid) and len(grid.determinations) == len(ys)
    assert all(len(row) == len(xs) for row in grid.determinations)
    for i, n in enumerate(ys):
        for j, r in enumerate(xs):
            alone = decide(therapy_days(case.with_(pain__radiculopathy=r), n).data)
            assert grid.determinations[i][j].to_dict() == alone.to_dict()
            assert grid.at(r, n) is grid.determinations[i][j]
    assert grid.outcomes[1] == ["not_medically_necessary", "not_medically_necessary"]
    assert grid.outcomes[2] == ["not_medically_necessary", "medically_necessary"]
    assert grid.x_label == "pain.radiculopathy" and grid.y_label == "therapy days"


def test_thresholds_come_from_the_knowledge_base():
    t = thresholds()
    assert t["therapy_days"] == 28 and t["diagnostic_relief"] == 75


def test_shift_moves_days_and_calendar_months():
    assert shift("2026-03-31", months=-1) == "2026-02-28"
    assert shift("2024-02-29", months=12) == "2025-02-28"
    assert shift(dt.date(2026, 1, 1), days=-1) == "2025-12-31"
    assert shift("2026-01-31", months=-13, days=1) == "2025-01-01"


def test_grid_plots_with_a_legend_and_thresholds(case):
    matplotlib = pytest.importorskip("matplotlib", reason="matplotlib is not installed (the notebooks extra)")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = sweep(case, "pain.radiculopathy", [True, False], "pain.score", [2, 5, 8])
    ax = grid.plot(title="t")
    grid.mark(ax, "y", 5, "at least 5")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["not medically necessary"]
    assert ax.lines[0].get_ydata()[0] == 3.5  # between 2 and 5: the values below and those at or above
    assert ax.get_xlabel() == "pain.radiculopathy" and ax.get_ylabel() == "pain.score"
    plt.close(ax.figure)


# ---------------------------------------------------------------------------- display

def test_determination_shows_as_a_criteria_table_with_status_classes(case):
    d = case.decide()
    page = d._repr_html_()
    assert page == criteria_html(d)
    for status in ("kbq-met", "kbq-not_met", "kbq-unknown"):
        assert f'class="{status}"' in page
    assert "NOT MEDICALLY NECESSARY" in page
    assert "conservative therapy 20 days" in page  # the unmet criterion's reason
    assert "missing: <code>pain.radiculopathy</code>" in page
    assert page.count("<tr") == len(d.criteria) + 1


def test_graph_and_rows_display_as_html(case):
    page = graph(case)._repr_html_()
    assert page.startswith('<div class="kbq-graph"') and 'style="max-width:none"' in page and "</svg>" in page
    assert "I.E" in graph(case.explain(), collapse_met=False).svg()
    assert "<td" in Rows([{"a": 1, "b": "<x>"}])._repr_html_() and "&lt;x&gt;" in Rows([{"b": "<x>"}])._repr_html_()


def test_the_docstring_examples_hold(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = doctest.testmod(notebook, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 10 and result.failed == 0
