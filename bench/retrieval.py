"""Retrieval quality on the labelled questions: recall@1/3/5/10, passage recall and MRR of the default retriever and its ablations, on both question sets.

For each set (the original questions, the paraphrased ones, and the paraphrased set's two halves by
id: the first tuned on, the second held out) prints the mean word overlap of its questions with
their labelled passages, then a table of the default retriever (stem BM25 + character n-gram BM25,
fused by reciprocal rank, question widened by the synonym lexicon) and its ablations, then the
tokenizer ablations of plain stem BM25. Ends with the time to index and to answer a question.
Run: .venv/bin/python bench/retrieval.py [--corpus PASSAGES.jsonl] [--questions QUESTIONS.jsonl ...]
"""
import argparse, time

from grpo_nb.data import load_corpus, load_retrieval_questions
from grpo_nb.rag import (QUESTION_SETS, Retriever, chunk_passages, compare_retrievers, compare_tokenizers, mean_overlap,
                         question_set, scores_table, split_by_id, stem_word)

def question_sets(passages, paths) -> dict[str, list[dict]]:
    "The sets to measure: the files `paths`, or the bundled sets and the paraphrased set's halves."
    if paths: return {path: load_retrieval_questions(path, passages) for path in paths}
    sets = {name: question_set(name, passages) for name in QUESTION_SETS}
    tuned, held_out = split_by_id(sets["paraphrased"])
    return sets | {"paraphrased, 1st half by id (tuned on)": tuned, "paraphrased, 2nd half by id (held out)": held_out}

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", help="passages, JSON Lines (default: the bundled corpus)")
    parser.add_argument("--questions", nargs="+", help="labelled questions, JSON Lines (default: the bundled sets)")
    args = parser.parse_args()

    passages = load_corpus(args.corpus, word_range=None)
    chunks = chunk_passages(passages)
    sets = question_sets(passages, args.questions)
    print(f"{len(passages)} passages, {len(chunks)} chunks")
    print("R@k: share of questions with a labelled passage in the top k; PR@k: share of labelled passages in the top k; "
          "MRR within the top 10; overlap: share of a question's words found as words of its labelled passages")
    for name, questions in sets.items():
        print(f"\n== {name}: {len(questions)} questions, mean word overlap {mean_overlap(questions, passages):.3f}")
        print(scores_table(compare_retrievers(corpus=args.corpus, questions=questions)))
        print("tokenizers, in plain stem BM25:")
        print(scores_table(compare_tokenizers(corpus=args.corpus, questions=questions)))

    stem_word.cache_clear()   # time the stemmer too, not its cache
    start = time.perf_counter()
    retriever = Retriever(chunks)
    indexed = time.perf_counter() - start
    questions = [q for qs in sets.values() for q in qs]
    start = time.perf_counter()
    for q in questions: retriever.search(q["question"], k=5)
    searched = time.perf_counter() - start
    print(f"\nindex: {indexed * 1000:.0f} ms for {len(chunks)} chunks (two indexes); "
          f"search: {searched / len(questions) * 1000:.2f} ms per question (k=5)")

if __name__ == "__main__":
    main()
