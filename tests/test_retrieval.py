"Retrieval on both labelled question sets: the default retriever's recall@5, the paraphrased set's word overlap, and the labels it relies on."
import json
from grpo_nb.data import load_corpus
from grpo_nb.rag import (QUESTION_SETS, Retriever, chunk_passages, evaluate_retrieval, mean_overlap, question_overlap, question_set,
                         split_by_id)
from conftest import ROOT

PASSAGES = load_corpus(word_range=None)
RETRIEVER = Retriever(chunk_passages(PASSAGES))

def test_paraphrased_questions_are_many_spread_and_say_little():
    questions = question_set("paraphrased", PASSAGES)
    assert len(questions) >= 48 and len({q["id"] for q in questions}) == len(questions)
    assert {q["id"].split("-")[1] for q in questions} == {p["period"] for p in PASSAGES}
    assert all(q["id"].startswith("rp-") for q in questions)
    assert mean_overlap(questions, PASSAGES) <= 0.30
    assert mean_overlap(question_set("original", PASSAGES), PASSAGES) > mean_overlap(questions, PASSAGES)

def test_the_new_file_loads_through_grpo_nb_data():
    from grpo_nb.data import load_retrieval_questions
    path = ROOT / "data/corpus" / QUESTION_SETS["paraphrased"]
    assert load_retrieval_questions(path) == question_set("paraphrased")

def test_default_retriever_recall_at_5():
    assert evaluate_retrieval(RETRIEVER, question_set("paraphrased", PASSAGES)).recall[5] >= 0.9
    assert evaluate_retrieval(RETRIEVER, question_set("original", PASSAGES)).recall[5] >= 0.97

def test_held_out_half_is_not_far_behind():
    tuned, held_out = split_by_id(question_set("paraphrased", PASSAGES))
    assert abs(len(tuned) - len(held_out)) <= 1
    assert evaluate_retrieval(RETRIEVER, held_out).recall[5] >= 0.85

def test_passages_that_retell_one_topic_are_labelled_together():
    "A question labelled with one passage of a pair that tells the same story is labelled with the other too."
    same = [("great_mongol_state-11", "culture-03"), ("qing-02", "culture-23"), ("qing-04", "culture-07"), ("yuan_khanates-08", "culture-05")]
    questions = {q["id"]: set(q["passage_ids"]) for q in question_set("original", PASSAGES)}
    for qid in ("rq-great_mongol_state-08", "rq-culture-03"): assert set(same[0]) <= questions[qid], qid
    for qid in ("rq-qing-03", "rq-culture-06"): assert {"qing-04", "culture-07", "culture-23"} <= questions[qid], qid
    for qid in ("rq-yuan_khanates-06", "rq-culture-04"): assert set(same[3]) <= questions[qid], qid
    assert "culture-27" in questions["rq-great_mongol_state-15"] and "northern_yuan-10" in questions["rq-culture-15"]

def test_overlap_counts_words_not_stems():
    passage = {"title": "Хархорум", "text": "Өгөдэй хаан 1235 онд Хархорум хотыг бариулжээ."}
    assert question_overlap("Хархорум хотыг хэн бариулсан бэ?", [passage]) == 2 / 5
    assert question_overlap("ХАРХОРУМ", [passage]) == 1.0

def test_corpus_fix_zorig():
    text = (ROOT / "data/corpus/passages.jsonl").read_text(encoding="utf-8")
    zorig = next(json.loads(l) for l in text.splitlines() if json.loads(l)["id"] == "democracy-03")
    assert "«Ардчиллын алтан хараацай»" in zorig["text"] and "алтан хэрээ" not in text
