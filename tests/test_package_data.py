"The data and the training notebook ship inside the package: one resolver finds them in a checkout or an installed wheel, from any folder; GRPO_NB_DATA overrides the data. (.ci/wheel runs the installed wheel end to end.)"
import json, subprocess, sys, zipfile
from pathlib import Path
import pytest
from grpo_nb.data import bundled, data_dir, data_file, load_corpus, validate
from grpo_nb.model import default_corpus_path
from grpo_nb.rag import QUESTION_SETS, question_set
from grpo_nb.report import notebook_parameters, training_notebook
from conftest import ROOT

NOTEBOOK = "nbs/11_training_run.ipynb"
RECIPES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "recipes").glob("*.yaml"))
DATA = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "data").rglob("*")
              if p.is_file() and not any(part.startswith(".") for part in p.relative_to(ROOT).parts))

@pytest.fixture
def elsewhere(monkeypatch, tmp_path):
    "An empty current folder, and no GRPO_NB_DATA."
    monkeypatch.delenv("GRPO_NB_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path

def test_every_default_path_is_the_bundled_file(elsewhere):
    assert bundled("data") == ROOT / "data", "in a checkout, the top-level data/ (git keeps one copy)"
    assert {"data/mgl_history_grpo.jsonl", "data/demo_grpo_dataset.jsonl", "data/corpus/passages.jsonl",
            *(f"data/corpus/{name}" for name in QUESTION_SETS.values())} <= set(DATA)
    assert data_dir() == bundled("data") and default_corpus_path() == data_dir() / "corpus" / "passages.jsonl"
    assert training_notebook() == bundled(NOTEBOOK) and "dataset" in notebook_parameters()
    from grpo_nb.options import recipe_path
    assert recipe_path("tiny-dpo") == bundled("recipes/tiny-dpo.yaml") and recipe_path("tiny-dpo").is_file()
    assert data_file("data/mgl_history_grpo.jsonl") == data_dir() / "mgl_history_grpo.jsonl"

def test_the_bundled_files_load_from_any_folder(elsewhere):
    assert len(validate("data/mgl_history_grpo.jsonl").accepted) >= 480   # the defaults' relative path, with no data/ here
    corpus = load_corpus()
    assert len(corpus) >= 150 and all(question_set(name, corpus) for name in QUESTION_SETS)

def test_grpo_nb_data_overrides_and_a_data_folder_here_comes_first(elsewhere, monkeypatch, run_cli):
    own = elsewhere / "own"
    (own / "corpus").mkdir(parents=True)
    passages = (ROOT / "data/corpus/passages.jsonl").read_text(encoding="utf-8").splitlines()[:3]
    (own / "corpus/passages.jsonl").write_text("\n".join(passages) + "\n", encoding="utf-8")
    (own / "mgl_history_grpo.jsonl").write_bytes((ROOT / "data/demo_grpo_dataset.jsonl").read_bytes())
    monkeypatch.setenv("GRPO_NB_DATA", str(own))
    assert data_dir() == own and default_corpus_path() == own / "corpus/passages.jsonl" and len(load_corpus()) == 3
    assert data_file("data/mgl_history_grpo.jsonl") == own / "mgl_history_grpo.jsonl"
    out = run_cli("validate", "data/mgl_history_grpo.jsonl", "--json", cwd=elsewhere)
    assert out.returncode == 0 and json.loads(out.stdout)["total"] == 8, out.stderr
    (elsewhere / "data").mkdir()
    (elsewhere / "data/mgl_history_grpo.jsonl").write_text("{}\n", encoding="utf-8")
    assert data_file("data/mgl_history_grpo.jsonl") == Path("data/mgl_history_grpo.jsonl")
    assert data_file("data/missing.jsonl") == Path("data/missing.jsonl"), "found nowhere: the path as given, for the error"

def test_the_wheel_carries_the_data_and_the_notebook(tmp_path):
    "The sdist builds the wheel; the wheel holds every data file, the notebook and the recipes byte for byte (the embedded model's key hashes the corpus)."
    pytest.importorskip("build")
    out = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(tmp_path), str(ROOT)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    with zipfile.ZipFile(next(tmp_path.glob("grpo_nb-*.whl"))) as wheel:
        shipped = {name.removeprefix("grpo_nb/bundled/"): wheel.read(name) for name in wheel.namelist() if name.startswith("grpo_nb/bundled/")}
    assert sorted(shipped) == sorted([*DATA, NOTEBOOK, *RECIPES])
    assert all(shipped[name] == (ROOT / name).read_bytes() for name in shipped)
