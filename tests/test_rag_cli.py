"`grpo-nb ask`: the Mongolian history RAG agent answers from a freshly trained adapter and lists its sources."
import json, re
from conftest import ROOT

def test_ask_answers_with_sources(run_cli, trained):
    out = run_cli("ask", "Чингис хааны тухай ярина уу?", "--adapter", trained[0], "--k", "3", "--max-new-tokens", "32")
    assert out.returncode == 0, out.stderr[-2000:]
    known = {json.loads(l)["id"] for l in (ROOT / "data/corpus/passages.jsonl").read_text(encoding="utf-8").splitlines()}
    cited = re.findall(r"\[([a-z_0-9]+-\d+)#\d+\]", out.stdout)
    assert cited and set(cited) <= known, out.stdout
    assert "Хариулт:" in out.stdout and "Эх сурвалж" in out.stdout

def test_ask_rejects_bad_input_in_one_line(grpo_nb_cli, tmp_path):
    for args in (("ask", "   "), ("ask", "асуулт", "--adapter", tmp_path / "missing"), ("ask", "асуулт", "--k", "0")):
        out = grpo_nb_cli(*args)
        assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr, out.stderr
