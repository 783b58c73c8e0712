"""Validation throughput: generate 100,000 preference records and print records per second on one core.

Records are built from the sentences of the bundled data, every one different (numbered prompts,
shuffled sentences), with about 5% bad records of several kinds so that the reject paths are timed too.
Run: .venv/bin/python bench/validate.py [--records N]
"""
import argparse, json, os, random, re, tempfile, time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1"); os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
if hasattr(os, "sched_setaffinity"): os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

from grpo_nb.data import validate
from grpo_nb import mongolian

ROOT = Path(__file__).resolve().parents[1]

def sentence_pool():
    texts = []
    for path in [ROOT / "data/mgl_history_grpo.jsonl", ROOT / "data/demo_grpo_dataset.jsonl"]:
        if path.exists():
            texts += [t for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
                      for k, t in json.loads(line).items() if k in ("chosen", "rejected") and isinstance(t, str)]
    sentences = sorted({s.strip() for t in texts for s in re.split(r"(?<=[.!?])\s+", t) if len(s.split()) >= 6})
    prompts = sorted({json.loads(l)["prompt"] for l in (ROOT / "data/demo_grpo_dataset.jsonl").read_text(encoding="utf-8").splitlines()})
    return prompts, sentences

def generate(n, seed=0):
    rng = random.Random(seed)
    prompts, sentences = sentence_pool()
    bad = ['{"prompt": broken', '[1, 2]', '{"prompt": "Чингис хаан хэн бэ?", "chosen": "x", "rejected": "y"}',
           json.dumps({"prompt": "Кто основал Монгольскую империю и в каком году?", "chosen": "Монгольскую империю основал Чингисхан в 1206 году на курултае у истоков реки Онон после объединения всех племён степи под своей властью.", "rejected": "Её основал кто-то из ханов в тринадцатом веке, точно неизвестно, но это было давно."}, ensure_ascii=False)]
    for i in range(n):
        if rng.random() < 0.05:
            yield rng.choice(bad); continue
        chosen = " ".join(rng.sample(sentences, 3))
        rejected = " ".join(rng.sample(sentences, 2))
        yield json.dumps({"prompt": f"{rng.choice(prompts)} ({i})", "chosen": chosen, "rejected": rejected}, ensure_ascii=False)

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    path = Path(tempfile.mkdtemp()) / "bench.jsonl"
    path.write_text("\n".join(generate(args.records)) + "\n", encoding="utf-8")
    mongolian._identifier()   # load the language-ID model outside the timed region
    start = time.perf_counter()
    report = validate(path)
    seconds = time.perf_counter() - start
    print(f"records:      {report.total:,} ({len(report.accepted):,} accepted, {len(report.rejected):,} rejected: {report.reasons})")
    print(f"time:         {seconds:.2f} s on one core")
    print(f"throughput:   {report.total / seconds:,.0f} records/s (target 20,000)")
    print(f"file size:    {path.stat().st_size / 1e6:.1f} MB, {path.stat().st_size / 1e6 / seconds:.1f} MB/s")

if __name__ == "__main__":
    main()
