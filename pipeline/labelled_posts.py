"""Posts labelled sentence by sentence (``corpus/posts/*.csv``; see corpus/labelled/GUIDELINES.md).

One row per sentence of a post. Each sentence has a class (does it carry a checkable claim?) and, where it
does, the poster's stance toward the claim, the claim as asserted in plain Dutch, and that claim's label
against the corpus. The post's label follows from them by the aggregation rule (``post_verdict``), which
``read_posts`` checks row by row. A post's split is drawn from a hash of its id, so no post straddles two.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from .errors import FactCheckError
from .posts import post_verdict
from .storage import read_csv_folder, short_hash

SENTENCE_CLASSES = ("claim", "asserting_question", "question", "opinion", "advice", "other")
CHECKABLE = ("claim", "asserting_question")  # the classes that carry a checkable claim
STANCES = ("asserts", "denies", "reports")
VERDICTS = ("supported", "contradicted", "unsupported")
COLUMNS = ("post_id", "platform", "voice", "sentence_no", "sentence", "sentence_class", "stance", "claim",
           "claim_label", "evidence", "post_label")
# A post that denies a claim gets the opposite verdict; a claim the corpus leaves open stays open.
DENIED = {"supported": "contradicted", "contradicted": "supported", "unsupported": "unsupported"}


def stance_verdict(claim_label: str, stance: str) -> str:
    """What the corpus says of the poster's position: a denied myth is supported, a denied fact contradicted;
    a reported claim is judged as if asserted (the post spreads it)."""
    return DENIED[claim_label] if stance == "denies" else claim_label


def post_split(post_id: str) -> str:
    """test / dev / train, about 20 / 20 / 60 %, from a hash of the post id."""
    bucket = int(short_hash(post_id), 16) % 5
    return "test" if bucket == 0 else "dev" if bucket == 1 else "train"


def post_text(sentences: list[str]) -> str:
    """The post as a reader sees it: its sentences joined by a space."""
    return " ".join(sentence.strip() for sentence in sentences)


def _problems(frame: pd.DataFrame) -> list[str]:
    problems = []
    for column, allowed in (("sentence_class", SENTENCE_CLASSES), ("post_label", VERDICTS)):
        for value in sorted(set(frame[column]) - set(allowed)):
            problems.append(f"unknown {column} {value!r}")
    checkable = frame["sentence_class"].isin(CHECKABLE)
    for column, allowed in (("stance", STANCES), ("claim_label", VERDICTS)):
        bad = frame[checkable & ~frame[column].isin(allowed)]
        problems += [f"post {r.post_id} sentence {r.sentence_no}: {column} {r[column]!r} not one of {allowed}"
                     for _, r in bad.iterrows()]
        filled = frame[~checkable & (frame[column] != "")]
        problems += [f"post {r.post_id} sentence {r.sentence_no}: {column} set on a {r.sentence_class} sentence"
                     for _, r in filled.iterrows()]
    no_claim = frame[checkable & (frame["claim"].str.strip() == "")]
    problems += [f"post {r.post_id} sentence {r.sentence_no}: checkable but no claim" for _, r in no_claim.iterrows()]
    decided = checkable & frame["claim_label"].isin(("supported", "contradicted"))
    no_evidence = frame[decided & (frame["evidence"].str.strip() == "")]
    problems += [f"post {r.post_id} sentence {r.sentence_no}: {r.claim_label} claim without evidence"
                 for _, r in no_evidence.iterrows()]
    for post_id, post in frame.groupby("post_id", sort=False):
        numbers = [int(n) if str(n).isdigit() else -1 for n in post["sentence_no"]]
        if numbers != list(range(1, len(post) + 1)):
            problems.append(f"post {post_id}: sentence_no must run 1, 2, 3, ... (got {numbers})")
        if post["post_label"].nunique() != 1:
            problems.append(f"post {post_id}: post_label differs between its rows")
            continue
        verdicts = [stance_verdict(r.claim_label, r.stance) for r in post.itertuples() if r.sentence_class in CHECKABLE
                    and r.claim_label in VERDICTS]
        expected, _ = post_verdict([(verdict, 1.0) for verdict in verdicts])
        if post["post_label"].iloc[0] != expected:
            problems.append(f"post {post_id}: post_label {post['post_label'].iloc[0]} but the rule gives {expected}")
    return problems


def read_posts(folder: Path, split: str | None = None) -> pd.DataFrame:
    """All labelled post files of ``folder`` (one row per sentence, with ``split`` and ``file`` added);
    an empty frame when there are none. Any malformed row stops with a message naming it. ``split``: the
    split of every post (the held-out writer's posts are all ``holdout``); by default drawn per post."""
    def first_problem(frame: pd.DataFrame) -> str | None:
        problems = _problems(frame)
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        return problems[0] + more if problems else None

    posts = read_csv_folder(folder, COLUMNS, "posts", first_problem)
    if not len(posts):
        return posts.assign(split=pd.Series(dtype=str))
    duplicated = posts.drop_duplicates(["file", "post_id"])["post_id"].duplicated()
    if duplicated.any():
        raise FactCheckError(f"post id {posts.drop_duplicates(['file', 'post_id'])['post_id'][duplicated].iloc[0]} "
                             "is used in two files")
    posts["sentence_no"] = posts["sentence_no"].astype(int)
    posts["split"] = split or posts["post_id"].map(post_split)
    return posts


def whole_posts(posts: pd.DataFrame) -> pd.DataFrame:
    """One row per post: post_id, text, post_label, split, and the sentence rows' index."""
    grouped = posts.groupby("post_id", sort=False)
    return pd.DataFrame({
        "post_id": list(grouped.groups),
        "text": [post_text(list(g["sentence"])) for _, g in grouped],
        "post_label": [g["post_label"].iloc[0] for _, g in grouped],
        "split": [g["split"].iloc[0] for _, g in grouped],
    })


def _quotes_not_in_index(frame: pd.DataFrame, passages_file: Path) -> list[str]:
    import json

    from .evidence import contains_quote, quotes

    passages = [json.loads(line)["text"] for line in passages_file.read_text(encoding="utf-8").splitlines()]
    return [f"post {r.post_id} sentence {r.sentence_no}: quote not in any passage: {quote[:80]!r}"
            for r in frame.itertuples() for quote in quotes(r.evidence)
            if not any(contains_quote(text, quote) for text in passages)]


if __name__ == "__main__":  # python -m pipeline.labelled_posts FILE...: validate post files and summarise them
    import shutil
    import tempfile

    for name in sys.argv[1:]:
        missing_quotes = _quotes_not_in_index(pd.read_csv(name, dtype=str, keep_default_na=False),
                                              Path("build/index/passages.jsonl"))
        if missing_quotes:
            print(f"{name}: {len(missing_quotes)} evidence problem(s)")
            print("\n".join("  " + p for p in missing_quotes[:50]))
        with tempfile.TemporaryDirectory() as scratch:
            shutil.copy(name, scratch)
            try:
                rows = read_posts(Path(scratch))
            except FactCheckError as exc:
                problems = _problems(pd.read_csv(name, dtype=str, keep_default_na=False)) \
                    if "missing column" not in str(exc) and "cannot read" not in str(exc) else [str(exc)]
                print(f"{name}: {len(problems)} problem(s)")
                print("\n".join("  " + p for p in problems[:50]))
                continue
        print(f"{name}: {rows['post_id'].nunique()} posts, {len(rows)} sentences; ok")
        print(rows["sentence_class"].value_counts().to_string())
        print(rows.drop_duplicates("post_id")["post_label"].value_counts().to_string())
