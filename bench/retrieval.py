"""Retrieval quality on the labelled questions: recall@1/3/5/10, passage recall and MRR of BM25 with our tokenizer, and its ablations.

Prints measured numbers for the default tokenizer (stemmer + stopwords) and for it without the
stemmer, without the stopwords, and without both, then the time to index and to answer a query.
Run: .venv/bin/python bench/retrieval.py [--corpus PASSAGES.jsonl --questions QUESTIONS.jsonl]
"""
import argparse, time

from grpo_nb.data import load_corpus, load_retrieval_questions
from grpo_nb.rag import Retriever, chunk_passages, compare_tokenizers, scores_table, stem_word

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", help="passages, JSON Lines (default: the bundled corpus)")
    parser.add_argument("--questions", help="labelled questions, JSON Lines (default: the bundled ones)")
    args = parser.parse_args()

    results = compare_tokenizers(corpus=args.corpus, questions=args.questions)
    passages = load_corpus(args.corpus, word_range=None)
    questions = load_retrieval_questions(args.questions, passages)
    chunks = chunk_passages(passages)
    print(f"{len(questions)} labelled questions, {len(passages)} passages, {len(chunks)} chunks")
    print("R@k: share of questions with a labelled passage in the top k; PR@k: share of labelled passages in the top k; MRR within the top 10")
    print(scores_table(results))

    stem_word.cache_clear()   # time the stemmer too, not its cache
    start = time.perf_counter()
    retriever = Retriever(chunks)
    indexed = time.perf_counter() - start
    start = time.perf_counter()
    for q in questions: retriever.search(q["question"], k=5)
    searched = time.perf_counter() - start
    print(f"index: {indexed * 1000:.0f} ms for {len(chunks)} chunks; search: {searched / len(questions) * 1000:.2f} ms per question (k=5)")

if __name__ == "__main__":
    main()
