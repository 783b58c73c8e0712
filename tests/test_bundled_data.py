"The bundled Mongolian history data: counts, spread over history, no duplicates, and it all loads through grpo_nb.data."
import json
from collections import Counter
from grpo_nb.data import validate, load_corpus, load_retrieval_questions, normalize_text
from grpo_nb.mongolian import detect_mongolian
from conftest import ROOT

PERIODS = {"xiongnu", "great_mongol_state", "yuan_khanates", "northern_yuan", "qing", "bogd_khaanate", "mpr",
           "khalkhin_gol", "un_1961", "democracy", "culture"}
KINDS = {"wrong_fact", "vague", "too_short", "off_topic", "mixed_language"}
PAIRS = ROOT / "data/mgl_history_grpo.jsonl"

def records(): return [json.loads(l) for l in PAIRS.read_text(encoding="utf-8").splitlines() if l.strip()]

def test_pair_counts_and_spread():
    pairs = records()
    assert len(pairs) >= 300
    questions = {r["question_id"] for r in pairs}
    assert len(questions) >= 100 and len({normalize_text(r["prompt"]) for r in pairs}) == len(questions)
    by_period = Counter(r["period"] for r in pairs)
    assert set(by_period) == PERIODS and min(by_period.values()) >= 15, by_period
    assert set(Counter(r["kind"] for r in pairs)) == KINDS

def test_every_pair_validates_except_mixed_language():
    pairs, report = records(), validate(PAIRS)
    assert len(report.accepted) >= 300
    rejected_lines = {r.line for r in report.rejected}
    for line, record in enumerate(pairs, start=1):
        assert (line in rejected_lines) == (record["kind"] == "mixed_language"), (line, record["id"])
    assert set(report.reasons) <= {"not_mongolian"}

def test_no_pair_is_duplicated():
    pairs = records()
    assert len({r["id"] for r in pairs}) == len(pairs)
    assert len({(normalize_text(r["prompt"]), normalize_text(r["chosen"]), normalize_text(r["rejected"])) for r in pairs}) == len(pairs)
    per_question = Counter(r["question_id"] for r in pairs)
    kinds = {q: {r["kind"] for r in pairs if r["question_id"] == q} for q in per_question}
    assert all(len(kinds[q]) == n for q, n in per_question.items()), "a question's pairs differ in kind"

def test_corpus_counts_and_no_duplicates():
    passages = load_corpus()
    assert len(passages) >= 150
    assert len({normalize_text(p["text"]) for p in passages}) == len(passages)
    assert len({p["title"] for p in passages}) == len(passages)
    assert {p["period"] for p in passages} == PERIODS
    assert all(60 <= len(p["text"].split()) <= 200 for p in passages)

def test_retrieval_questions_point_at_real_passages():
    passages = load_corpus()
    questions = load_retrieval_questions(passages=passages)
    assert len(questions) >= 60
    assert len({q["id"] for q in questions}) == len(questions)
    assert all(detect_mongolian(q["question"]).is_mongolian for q in questions)
    covered = {i for q in questions for i in q["passage_ids"]}
    assert len(covered) >= 100, "the questions reach across the corpus"

def test_cli_accepts_at_least_300(run_cli):
    out = run_cli("validate", "data/mgl_history_grpo.jsonl", "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["accepted"] >= 300
