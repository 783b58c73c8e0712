"`grpo-nb report`: the training notebook executed by papermill, rendered to one self-contained HTML file, and the index."
import json, re, subprocess, sys
from pathlib import Path
import pytest
from conftest import ROOT

SCRIPT_PROMPT = "<script>alert(1)</script> Чингис хаан хэзээ, хаана төрсөн бэ?"

@pytest.fixture(scope="module")
def report(tmp_path_factory, run_cli):
    reports = tmp_path_factory.mktemp("reports")
    out = run_cli("report", "-p", "epochs", "1", "-p", "sample_prompts", json.dumps([SCRIPT_PROMPT], ensure_ascii=False),
                  "--reports-dir", reports)
    assert out.returncode == 0, out.stderr[-3000:]
    path = Path(re.search(r"report: (\S+)", out.stdout).group(1))
    return reports, path

@pytest.fixture(scope="module")
def run_cli():
    from conftest import CLI
    import os
    return lambda *args: subprocess.run([str(CLI), *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=1200,
                                        env={**os.environ, "GRPO_NB_DEBUG": ""})

def test_report_is_one_self_contained_file_with_figures_and_numbers(report):
    reports, path = report
    page = path.read_text(encoding="utf-8")
    folder = path.parent
    assert re.match(r"\d{8}-\d{6}-dpo-tiny-mn-llama$", folder.name)
    assert (folder / "run.ipynb").exists() and (folder / "adapter/adapter_model.safetensors").exists()
    assert page.count("data:image/png;base64,") >= 4, "data summary, curves and accuracy figures are embedded"
    assert not re.search(r'(src|href)="https?://', page), "nothing is fetched from the network"
    assert "<script" not in page and "https://cdn" not in page, "no script runs"
    stats = json.loads((folder / "adapter/training_stats.json").read_text())
    for number in (f"{stats['last_train_loss']:.4f}", f"{stats['eval_reward_accuracy']:.4f}", f"{stats['eval_reward_margin']:.4f}",
                   f"{stats['trainable_parameters']:,}"):
        assert number in page, number
    for heading in ("Data", "Configuration", "Training", "Base against tuned", "Controlled for length", "Samples"):
        assert f">{heading}<" in page, heading
    assert "import json" not in page, "code is hidden"

def test_text_from_data_and_models_is_escaped(report):
    page = report[1].read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page

def test_held_out_improvement_is_measured_with_intervals(report):
    summary = json.loads((report[1].parent / "summary.json").read_text())
    difference = summary["normalised_difference"]
    assert difference["low"] <= difference["value"] <= difference["high"]
    assert summary["test"] > 0 and summary["accepted"] >= 300
    for name in ("fact_accuracy", "fact_accuracy_seen"):   # the task metric, on held-out questions and on questions trained on
        assert set(summary[name]) == {"closed-book", "gold passage"}, name
        for comparison in summary[name].values():
            assert comparison["questions"] > 0 and comparison["difference"]["low"] <= comparison["difference"]["value"] <= comparison["difference"]["high"]
    page = report[1].read_text(encoding="utf-8")
    assert "fact accuracy of answers, 95% interval" in page and "fact accuracy, questions trained on, 95% interval" in page

def test_report_shows_the_length_views_table(report):
    "One table: rows overall, length-matched, length-reversed and each kind; columns n, length baseline, base, tuned, tuned − base, implicit reward."
    page = report[1].read_text(encoding="utf-8")
    summary = json.loads((report[1].parent / "summary.json").read_text())
    views = summary["length_views"]
    table = next(t for t in re.findall(r"<table.*?</table>", page, flags=re.S) if "length-reversed (chosen shorter)" in t)
    header = re.findall(r"<th>(.*?)</th>", table)
    assert header == ["pairs", "n", "length baseline", "base", "tuned", "tuned − base", "implicit reward"], header
    rows = [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)][1:]
    assert [row[0] for row in rows[:3]] == ["overall", "length-matched (±10% words)", "length-reversed (chosen shorter)"]
    assert [row[0] for row in rows[3:]] == [f"kind: {kind}" for kind in views["by_kind"]] and views["by_kind"]
    assert rows[0][1] == str(summary["test"]) == str(views["overall"]["n"])
    accuracy = lambda a: "—" if a is None else f"{a['value']:.3f} [{a['low']:.3f}, {a['high']:.3f}]"
    assert rows[0][2:] == [accuracy(views["overall"][k]) for k in ("length_baseline", "normalised_base", "normalised_tuned",
                                                                    "normalised_difference", "implicit_reward")]
    assert "a model that learned truth keeps its accuracy on the length-reversed and minimal_edit rows" in page
    assert "length correlation of the implicit-reward margin" in page and f"(n {summary['test']})" in page
    assert "verbosity drift over" in page and summary["verbosity"]["prompts"] >= 1

def test_length_table_helper_escapes_and_follows_the_views():
    "The report's table on hand-made pairs: a length learner's numbers move across the rows; text from data is escaped."
    from grpo_nb.evaluate import preference_views, length_correlation
    from grpo_nb.report import length_control_html
    made = [{"chosen": "сайн " * 30, "rejected": "муу " * 10, "kind": "vague"}, {"chosen": "сайн " * 40, "rejected": "муу " * 10, "kind": "vague"},
            {"chosen": "сайн " * 20, "rejected": "муу " * 21, "kind": "minimal_edit"}, {"chosen": "сайн " * 12, "rejected": "муу " * 40, "kind": "<b>long_wrong</b>"}]
    learner = [1.0, 1.0, 0.0, 0.0]          # prefers the longer answer
    page = length_control_html(preference_views({"learner": learner}, made), {"length baseline": "length_baseline", "tuned": "learner"},
                               length_correlation([20.0, 30.0, -1.0, -28.0], made))
    rows = [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", page)][1:]
    by_label = {row[0]: row[1:] for row in rows}
    assert by_label["overall"] == ["4", "0.500 [0.000, 1.000]", "0.500 [0.000, 1.000]"]
    assert by_label["length-matched (±10% words)"] == ["1", "0.000 [0.000, 0.000]", "0.000 [0.000, 0.000]"]
    assert by_label["length-reversed (chosen shorter)"] == ["2", "0.000 [0.000, 0.000]", "0.000 [0.000, 0.000]"]
    assert by_label["kind: vague"][:2] == ["2", "1.000 [1.000, 1.000]"]
    assert "kind: &lt;b&gt;long_wrong&lt;/b&gt;" in page and "<b>" not in page
    assert "ALARM" in page

def test_index_lists_the_run(report):
    reports, path = report
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert f'href="{path.parent.name}/report.html"' in index and ">ok<" in index

def test_failing_run_writes_partial_report_and_exits_nonzero(tmp_path, run_cli):
    out = run_cli("report", "-p", "epochs", "-1", "--reports-dir", tmp_path)
    assert out.returncode != 0
    assert len(out.stderr.strip().splitlines()) == 1 and "epochs must be positive" in out.stderr
    folder = next(p for p in tmp_path.iterdir() if p.is_dir())
    assert (folder / "run.ipynb").exists()
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "An Exception was encountered" in page and "epochs must be positive" in page
    assert json.loads((folder / "run.json").read_text())["status"] == "failed"
    assert ">failed<" in (tmp_path / "index.html").read_text(encoding="utf-8")

@pytest.mark.train
def test_papermill_cli_runs_the_same_notebook(tmp_path):
    "papermill's own command line, on the 8 demo pairs (the `report` fixture runs the notebook on the bundled data)."
    papermill = Path(sys.executable).with_name("papermill")
    out = subprocess.run([str(papermill), "nbs/11_training_run.ipynb", str(tmp_path / "run.ipynb"), "-p", "epochs", "1",
                          "-p", "dataset", "../data/demo_grpo_dataset.jsonl", "-p", "output", str(tmp_path / "adapter"), "--cwd", "nbs", "-k", "python3"],
                         cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert out.returncode == 0, out.stderr[-3000:]
    stats = json.loads((tmp_path / "adapter/training_stats.json").read_text())
    assert stats["config"]["epochs"] == 1 and stats["dataset"]["accepted"] == 8
