"The bundled Mongolian history data: counts, spread, no shortcut that form alone could learn, no leakage, one spelling per name, facts that hold, and it all loads through grpo_nb.data."
import json
from collections import Counter
import pytest
from grpo_nb.data import (validate, load_corpus, load_retrieval_questions, normalize_text, content_words, shortcut_baselines,
                          split_by_question, answer_words, sentence_count)
from grpo_nb.mongolian import detect_mongolian
from grpo_nb.evaluate import answer_years
from conftest import ROOT

PERIODS = {"xiongnu", "great_mongol_state", "yuan_khanates", "northern_yuan", "qing", "bogd_khaanate", "mpr",
           "khalkhin_gol", "un_1961", "democracy", "culture"}
KINDS = {"minimal_edit", "long_wrong", "wrong_fact", "vague", "too_short", "off_topic", "mixed_language"}
PAIRS = ROOT / "data/mgl_history_grpo.jsonl"
# the variants measured in the first version of the data; one spelling per name and one date style since
VARIANTS = ["Даду ", "Дадуг", "Тогоон Төмөр", "Санжасүрэн", "Бумын", "Хань ", "Хань,", "Жибзундамба", "Сономжамц", "Соднамжамц",
            "Уйгаржин", "Кэйпин", "-р сар", "долдугаар сар", "тавдугаар сар"]

def records(): return [json.loads(l) for l in PAIRS.read_text(encoding="utf-8").splitlines() if l.strip()]

@pytest.fixture(scope="module")
def accepted(): return validate(PAIRS).accepted

def test_pair_counts_and_spread(accepted):
    pairs = records()
    questions = {r["question_id"] for r in pairs}
    assert len(questions) >= 120 and len({normalize_text(r["prompt"]) for r in pairs}) == len(questions)
    assert len(accepted) >= 480
    by_period = Counter(r["period"] for r in pairs)
    assert set(by_period) == PERIODS and min(by_period.values()) >= 15, by_period
    assert set(Counter(r["kind"] for r in pairs)) == KINDS

def test_every_pair_validates_except_mixed_language():
    pairs, report = records(), validate(PAIRS)
    rejected_lines = {r.line for r in report.rejected}
    for line, record in enumerate(pairs, start=1):
        assert (line in rejected_lines) == (record["kind"] == "mixed_language"), (line, record["id"])
    assert set(report.reasons) <= {"not_mongolian"}

def test_length_does_not_tell_chosen_from_rejected(accepted):
    "The shortcut baselines (prefer the longer answer, more sentences, more digits) stay within 0.35-0.65, overall and on each side of the split."
    split = split_by_question(accepted)
    for name, pairs in (("all", accepted), ("train", split["train"].to_list()), ("test", split["test"].to_list())):
        for rule, value in shortcut_baselines(pairs).items():
            assert 0.35 <= value <= 0.65, (name, rule, value)
    rejected_longer = [r for r in accepted if answer_words(r["rejected"]) >= answer_words(r["chosen"])]
    assert len(rejected_longer) >= 0.4 * len(accepted)

def test_kinds_keep_their_promises():
    for r in records():
        chosen, rejected = answer_words(r["chosen"]), answer_words(r["rejected"])
        if r["kind"] == "minimal_edit":
            assert abs(chosen - rejected) <= 2 and sentence_count(r["chosen"]) == sentence_count(r["rejected"]), r["id"]
            assert content_words(r["chosen"]) != content_words(r["rejected"]), r["id"]
        if r["kind"] == "long_wrong": assert rejected > chosen, r["id"]
    concise = {r["question_id"] for r in records() if sentence_count(r["chosen"]) <= 2}
    assert len(concise) >= 15, "some chosen answers are concise"

def test_no_held_out_prompt_is_a_training_prompt_reworded(accepted):
    split = split_by_question(accepted)
    train = [set(content_words(p)) for p in set(split["train"]["prompt"])]
    for prompt in set(split["test"]["prompt"]):
        words = set(content_words(prompt))
        assert max(len(words & t) / len(words) for t in train) < 0.6, prompt
    topics = {r["topic"] for r in split["test"].to_list()}
    assert not topics & {r["topic"] for r in split["train"].to_list()}

def test_no_pair_is_duplicated():
    pairs = records()
    assert len({r["id"] for r in pairs}) == len(pairs)
    assert len({(normalize_text(r["prompt"]), normalize_text(r["chosen"]), normalize_text(r["rejected"])) for r in pairs}) == len(pairs)
    kinds = Counter((r["question_id"], r["kind"]) for r in pairs)
    assert max(n for (_, kind), n in kinds.items() if kind != "minimal_edit") == 1, "a question has one pair of each kind"
    assert set(n for (_, kind), n in kinds.items() if kind == "minimal_edit") == {2}, "two minimal edits a question, each its own fact"

def test_gold_facts_are_in_the_chosen_answer_and_a_labelled_passage():
    passages = {p["id"]: p for p in load_corpus()}
    for r in records():
        facts = r["facts"]
        assert facts["years"] + facts["names"] and r["passage_ids"], r["id"]
        text = " ".join(passages[i]["text"] for i in r["passage_ids"])
        for year in facts["years"]: assert year in answer_years(r["chosen"]) and year in answer_years(text), (r["id"], year)
        for name in facts["names"]: assert name.casefold() in r["chosen"].casefold() and name.casefold() in text.casefold(), (r["id"], name)

def test_one_spelling_per_name_and_the_checked_errors_are_fixed():
    texts = {path.name: path.read_text(encoding="utf-8") for path in
             [PAIRS, ROOT / "data/demo_grpo_dataset.jsonl", *sorted((ROOT / "data/corpus").glob("*.jsonl"))]}
    for name, text in texts.items():
        for variant in VARIANTS: assert variant not in text, (name, variant)
        assert "алтан хэрээ" not in text, name                      # Zorig is «Ардчиллын алтан хараацай»
    for r in records():
        if r["question_id"] == "xiongnu-q05": assert "Бумин" not in r["chosen"] or "Мухан" in r["chosen"], r["chosen"]

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

def test_cli_accepts_the_bundled_pairs_and_prints_the_baselines(run_cli):
    out = run_cli("validate", "data/mgl_history_grpo.jsonl", "--json")
    result = json.loads(out.stdout)
    assert out.returncode == 0 and result["accepted"] >= 480
    assert all(0.35 <= v <= 0.65 for v in result["shortcut_baselines"].values()), result["shortcut_baselines"]
    text = run_cli("validate", "data/mgl_history_grpo.jsonl").stdout
    assert "shortcut baselines" in text and "warning" not in text
