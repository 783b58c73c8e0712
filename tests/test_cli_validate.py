"`grpo-nb validate` end to end: every bad record reported by line and reason, nothing lost, one-line errors."
import json
import pytest
from conftest import ROOT

GOOD = json.loads((ROOT / "data/demo_grpo_dataset.jsonl").read_text(encoding="utf-8").splitlines()[0])
OTHER = json.loads((ROOT / "data/demo_grpo_dataset.jsonl").read_text(encoding="utf-8").splitlines()[1])
RUSSIAN = ("Монгольская империя была основана в 1206 году на курултае у истоков реки Онон, где Темучин "
           "был провозглашён Чингисханом и получил власть над всеми племенами степи.")
KAZAKH = ("Қазақ хандығы он бесінші ғасырда құрылды және оның негізін Керей мен Жәнібек хандар қалады, "
          "бұл оқиға қазақ халқының тарихындағы маңызды кезең болып саналады.")
LATIN = ("Ikh Mongol uls 1206 ond Onon golyn ekhend baiguulagdsan bogood Temujiniig Chinggis khaan "
         "khemeen urgumjilsun yum, ene ni nuudelchdiin tuukhend shine uyeiig neesen.")
MIXED_ENGLISH = ("Их Монгол Улс 1206 онд байгуулагдсан. The Great Mongol State was founded at a kurultai near "
                 "the source of the Onon river, where Temujin was proclaimed Chinggis Khan by the assembled tribes.")
LOOKALIKE = GOOD["chosen"].replace("ү", "y").replace("ө", "o")

def line(record): return json.dumps(record, ensure_ascii=False).encode()

# (raw line, expected reason or None for accepted)
CASES = [
    (line(GOOD), None),
    (b"", "blank"),
    (b"{not json at all", "not_json"),
    (b"[1, 2, 3]", "not_object"),
    (b'"just a string"', "not_object"),
    (line({k: v for k, v in GOOD.items() if k != "rejected"}), "missing_field"),
    (line({**GOOD, "chosen": ""}), "empty_field"),
    (line({**GOOD, "prompt": 12345}), "not_string"),
    (line(GOOD)[:-40] + b"\xff\xfe" + line(GOOD)[-40:], "invalid_utf8"),
    (line({**GOOD, "prompt": "Чингис хаан хэн бэ?"}), "too_short"),
    (line({**GOOD, "chosen": "Их Монгол Улс 1206 онд байгуулагдсан бөгөөд Чингис хаан тэргүүлсэн юм."}), "too_short"),
    (line({**GOOD, "rejected": "Мэдэхгүй ээ."}), "too_short"),
    (line({**GOOD, "chosen": RUSSIAN}), "not_mongolian"),
    (line({**GOOD, "chosen": KAZAKH}), "not_mongolian"),
    (line({**GOOD, "chosen": LATIN}), "not_mongolian"),
    (line({**GOOD, "chosen": MIXED_ENGLISH}), "not_mongolian"),
    (line({**GOOD, "chosen": LOOKALIKE}), "not_mongolian"),
    (line({**GOOD, "rejected": "  " + GOOD["chosen"].upper() + " "}), "chosen_equals_rejected"),
    (line({**GOOD, "rejected": GOOD["chosen"].replace(",", "").replace(".", " !")}), "chosen_equals_rejected"),
    (line({**GOOD, "rejected": GOOD["chosen"].replace("1206", "1204")}), None),   # a minimal edit: one fact changed
    (line(GOOD), "duplicate"),
    (line({**OTHER, "extra": {"source": "test"}}), None),
]

@pytest.fixture
def mixed_file(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(raw for raw, _ in CASES) + b"\r\n")
    return path

def test_every_bad_record_is_reported_by_line_and_reason(run_cli, mixed_file, tmp_path):
    rejects = tmp_path / "rejects.jsonl"
    out = run_cli("validate", mixed_file, "--json", "--rejects", rejects)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    expected = {n: reason for n, (_, reason) in enumerate(CASES, start=1) if reason not in (None, "blank")}
    got = {r["line"]: r["reason"] for r in map(json.loads, rejects.read_text(encoding="utf-8").splitlines())}
    assert got == expected
    non_blank = sum(1 for _, reason in CASES if reason != "blank")
    assert summary["accepted"] + summary["rejected"] == summary["total"] == non_blank
    assert summary["accepted"] == 3
    assert sum(summary["reasons"].values()) == summary["rejected"]

def test_rejects_keep_raw_text_and_detail(run_cli, mixed_file, tmp_path):
    rejects = tmp_path / "rejects.jsonl"
    run_cli("validate", mixed_file, "--rejects", rejects)
    records = {r["line"]: r for r in map(json.loads, rejects.read_text(encoding="utf-8").splitlines())}
    assert records[3]["raw"] == "{not json at all"
    assert "minimum 5" in records[10]["detail"]
    assert "mixes scripts" in records[17]["detail"]

def test_readable_summary_names_lines(run_cli, mixed_file):
    out = run_cli("validate", mixed_file)
    assert out.returncode == 0
    assert "3 accepted" in out.stdout and "line 3: not_json" in out.stdout

def test_demo_data_all_accepted(run_cli):
    out = run_cli("validate", "data/demo_grpo_dataset.jsonl", "--json")
    assert out.returncode == 0
    assert json.loads(out.stdout)["accepted"] == 8 == json.loads(out.stdout)["total"]

def test_thresholds_are_configurable(run_cli):
    out = run_cli("validate", "data/demo_grpo_dataset.jsonl", "--json", "--min-chosen-words", "200")
    assert out.returncode == 2 and json.loads(out.stdout)["reasons"] == {"too_short": 8}
    out = run_cli("validate", "data/demo_grpo_dataset.jsonl", "--json", "--min-rejected-words", "0", "--min-mongolian-share", "0.5")
    assert json.loads(out.stdout)["accepted"] == 8

def test_json_array_input(run_cli, tmp_path):
    path = tmp_path / "pairs.json"
    path.write_text(json.dumps([GOOD, OTHER, {"prompt": 1}], ensure_ascii=False, indent=1), encoding="utf-8")
    out = run_cli("validate", path, "--json")
    assert json.loads(out.stdout)["accepted"] == 2 and json.loads(out.stdout)["reasons"] == {"not_string": 1}

@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    (b"", "is empty"),
    (b"\n  \n", "is empty"),
    (b"hello\nworld\n", "not JSON Lines"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not JSON Lines"),
    (b'{"prompt": "a", "chosen": "b", "rejected": "c"}\n', "no valid record"),
])
def test_unusable_input_is_one_line_exit_2(run_cli, tmp_path, content, message):
    path = tmp_path / "data.jsonl"
    if content is not None: path.write_bytes(content)
    out = run_cli("validate", path)
    assert out.returncode == 2
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.stderr

def test_directory_and_bad_options_are_one_line(run_cli, tmp_path):
    for args in [("validate", tmp_path), ("validate",), ("validate", "data/demo_grpo_dataset.jsonl", "--min-prompt-words", "x"), ("nonsense",)]:
        out = run_cli(*args)
        assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr

def test_minimal_edits_are_valid_unless_a_near_duplicate_ratio_is_asked_for(run_cli, tmp_path):
    path = tmp_path / "minimal.jsonl"
    path.write_bytes(line({**GOOD, "rejected": GOOD["chosen"].replace("1206", "1204")}) + b"\n")
    assert json.loads(run_cli("validate", path, "--json").stdout)["accepted"] == 1
    strict = json.loads(run_cli("validate", path, "--json", "--near-duplicate-ratio", "0.9").stdout)
    assert strict["accepted"] == 0 and strict["reasons"] == {"near_duplicate": 1}
