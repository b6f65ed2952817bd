"""The post reader, measured: sentence classes and stance, and post verdicts before and after.

    .venv/bin/python bench/posts.py [--folds 5] [--config PATH] [--external CSV] [--out out/posts]

1. Grouped cross-validation by post over the posts of the reader's training splits and dev (plain
   labelled claims, where configured, join every fitting fold and are never scored): per-class precision,
   recall and F1 of the sentence class, F1 of "carries a checkable claim" (claim or asserting question),
   and stance accuracy on the gold checkable sentences, for the earlier rules and reader variants.
2. Held out: the reader fitted on its training splits only, scored on the test posts and on the held-out
   writers' posts (``paths.holdout_posts``: writers no rule or setting was chosen on).
3. Post verdicts, end to end through ``FactChecker.check_many``, with the sentence rules (before) and the
   reader (after), on the dev, test and held-out writers' posts (and each held-out writer's), the external
   set's posts and its other claims (to show plain claims do not get worse). The external set is measured
   on, never trained on.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import f1_score, precision_recall_fscore_support  # noqa: E402
from sklearn.model_selection import GroupKFold  # noqa: E402

from pipeline.checker import FactChecker  # noqa: E402
from pipeline.labelled_posts import CHECKABLE, SENTENCE_CLASSES, read_posts, whole_posts  # noqa: E402
from pipeline.post_reading import PostReader, rule_class  # noqa: E402
from pipeline.report import read_labelled  # noqa: E402
from pipeline.train import fit_post_reader, reader_data, reader_matrix, sentence_rows  # noqa: E402

EXTERNAL = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "external-dev" / "claims.csv"


def class_scores(gold: list[str], predicted: list[str]) -> dict:
    precision, recall, f1, support = precision_recall_fscore_support(gold, predicted, labels=list(SENTENCE_CLASSES),
                                                                     zero_division=0)
    per_class = {name: {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3), "n": int(n)}
                 for name, p, r, f, n in zip(SENTENCE_CLASSES, precision, recall, f1, support)}
    checkable = f1_score(np.isin(gold, CHECKABLE), np.isin(predicted, CHECKABLE))
    return {"checkable_f1": round(float(checkable), 3), "per_class": per_class,
            "macro_f1": round(float(np.mean(f1)), 3)}


def stance_accuracy(gold_classes, gold_stances, predicted_stances) -> float:
    checkable = np.isin(gold_classes, CHECKABLE)
    return round(float(np.mean(np.asarray(gold_stances)[checkable] == np.asarray(predicted_stances)[checkable])), 3)


def predict(reader, data, posts: list[int]) -> tuple[list[str], list[str]]:
    X = reader_matrix(reader, data, posts)
    classes, _ = reader.predict_classes(X)
    stances = [max(s, key=s.get) for s in reader.stance_probabilities(X)]
    return list(classes), stances


def cross_validate(checker, data, scored: list[int], always_fit: list[int], template, folds: int) -> dict:
    """Held-out predictions for the ``scored`` posts, each fold fitted on the others plus ``always_fit``."""
    gold_rows = sentence_rows(data, scored)
    predicted_classes, predicted_stances = {}, {}
    splitter = GroupKFold(folds)
    for fit_on, held in splitter.split(scored, groups=[data.post_ids[i] for i in scored]):
        reader = fit_post_reader(template, data, [scored[i] for i in fit_on] + always_fit)
        held_posts = [scored[i] for i in held]
        classes, stances = predict(reader, data, held_posts)
        for row, c, s in zip(sentence_rows(data, held_posts), classes, stances):
            predicted_classes[row], predicted_stances[row] = c, s
    gold = np.asarray(data.classes)[gold_rows]
    scores = class_scores(list(gold), [predicted_classes[r] for r in gold_rows])
    scores["stance_accuracy"] = stance_accuracy(gold, np.asarray(data.stances)[gold_rows],
                                                [predicted_stances[r] for r in gold_rows])
    return scores


def rule_scores(checker, data, scored: list[int]) -> dict:
    rows = sentence_rows(data, scored)
    sentences = [s.text for i in scored for s in data.posts[i]]
    predicted = [rule_class(s, checker.config.posts) for s in sentences]
    gold = np.asarray(data.classes)[rows]
    scores = class_scores(list(gold), predicted)
    scores["stance_accuracy"] = stance_accuracy(gold, np.asarray(data.stances)[rows], ["asserts"] * len(rows))
    return scores


def verdict_accuracy(checker, texts: list[str], labels: list[str], reader) -> float:
    checker.post_reader = reader
    predicted = [r.verdict for r in checker.check_many(texts)]
    return round(float(np.mean(np.asarray(predicted) == np.asarray(labels))), 3) if labels else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--external", type=Path, default=EXTERNAL)
    parser.add_argument("--out", type=Path, default=Path("out/posts"))
    args = parser.parse_args()

    checker = FactChecker.from_config(args.config, require_model=False)
    checker.load_classifier(optional=True)  # the verdict model; the reader is fitted here, as `train` fits it
    config, settings = checker.config, checker.config.posts
    posts = read_posts(config.path("labelled_posts"))
    fit_splits = settings.reader_training_splits
    labelled = read_labelled(config.path("labelled_claims"), fit_splits)
    plain = list(labelled.loc[labelled["kind"] != "social-media post", "claim"])
    print(f"{posts['post_id'].nunique()} labelled posts, {len(posts)} sentences; "
          f"splits {posts.drop_duplicates('post_id')['split'].value_counts().to_dict()}")

    holdout = read_posts(config.path("holdout_posts"), split="holdout")
    shared_ids = set(holdout["post_id"]) & set(posts["post_id"])
    if shared_ids:
        sys.exit(f"post id {sorted(shared_ids)[0]} is both a labelled and a held-out post")
    print(f"{holdout['post_id'].nunique()} held-out writers' posts, {len(holdout)} sentences")

    development = posts[posts["split"].isin([*fit_splits, "dev"])]
    data = reader_data(pd.concat([development, posts[posts["split"] == "test"], holdout]), plain, checker.encoder)
    index_of = {post_id: i for i, post_id in enumerate(data.post_ids)}
    split_of = dict(zip(posts["post_id"], posts["split"]))
    dev_posts = [index_of[p] for p in dict.fromkeys(development["post_id"])]
    test_posts = [index_of[p] for p in data.post_ids if split_of.get(p) == "test"]
    holdout_posts = [index_of[p] for p in dict.fromkeys(holdout["post_id"])]
    plain_posts = [i for i, p in enumerate(data.post_ids) if p.startswith("claim:")]
    fit_posts = [index_of[p] for p in data.post_ids if split_of.get(p) in fit_splits]

    report: dict = {"posts": int(posts["post_id"].nunique()), "sentences": int(len(posts))}
    variants = {
        "rules (before)": None,
        "cues only": (PostReader(settings.reader_regularisation, use_embeddings=False), plain_posts),
        "cues + embeddings, no plain claims": (PostReader(settings.reader_regularisation, True), []),
        "cues + embeddings": (PostReader(settings.reader_regularisation, True), plain_posts),
    }
    for C in (0.1, 0.3, 3.0):
        variants[f"cues + embeddings, C={C}"] = (PostReader(C, True), plain_posts)
    report["cross_validation"] = {}
    for name, variant in variants.items():
        scores = rule_scores(checker, data, dev_posts) if variant is None else \
            cross_validate(checker, data, dev_posts, variant[1], variant[0], args.folds)
        report["cross_validation"][name] = scores
        print(f"CV {name:40s} checkable F1 {scores['checkable_f1']:.3f}  class macro-F1 {scores['macro_f1']:.3f}  "
              f"stance acc {scores['stance_accuracy']:.3f}")

    # Held out: fitted on the training splits (as `factcheck train` fits it), scored on the test posts and the
    # held-out writer's.
    template = PostReader(settings.reader_regularisation, settings.reader_embeddings)
    held_reader = fit_post_reader(template, data, fit_posts + (plain_posts if settings.reader_plain_claims else []))
    for name, scored in (("test", test_posts), ("holdout", holdout_posts)):
        if not scored:
            continue
        classes, stances = predict(held_reader, data, scored)
        rows = sentence_rows(data, scored)
        held = class_scores(list(np.asarray(data.classes)[rows]), classes)
        held["stance_accuracy"] = stance_accuracy(np.asarray(data.classes)[rows], np.asarray(data.stances)[rows],
                                                  stances)
        report[f"held_out_{name}"] = {"reader": held, "rules": rule_scores(checker, data, scored)}
        print(f"{name} posts: reader checkable F1 {held['checkable_f1']:.3f}, stance {held['stance_accuracy']:.3f}; "
              f"rules checkable F1 {report[f'held_out_{name}']['rules']['checkable_f1']:.3f}")

    # Post verdicts end to end, before (rules) and after (the reader as `factcheck train` fits it).
    whole = whole_posts(posts)
    whole = pd.concat([whole, whole_posts(holdout)]) if len(holdout) else whole

    def texts_and_labels(chosen: pd.Series) -> tuple[list[str], list[str]]:
        return list(whole.loc[chosen, "text"]), list(whole.loc[chosen, "post_label"])

    sets = {split: texts_and_labels(whole["split"] == split) for split in ("dev", "test", "holdout")}
    writer_of = holdout.drop_duplicates("post_id").set_index("post_id")["file"]
    if writer_of.nunique() > 1:  # writers differ more than sample noise: each is shown too
        for writer in sorted(set(writer_of)):
            sets[f"holdout {Path(writer).stem}"] = texts_and_labels(whole["post_id"].map(writer_of) == writer)
    if args.external.exists():
        external = pd.read_csv(args.external, dtype=str, keep_default_na=False)
        social = external["kind"] == "social"
        sets["external posts"] = (list(external.loc[social, "claim"]), list(external.loc[social, "label"]))
        sets["external other claims"] = (list(external.loc[~social, "claim"]), list(external.loc[~social, "label"]))
    report["post_verdicts"] = {}
    for name, (texts, labels) in sets.items():
        before = verdict_accuracy(checker, texts, labels, None)
        after = verdict_accuracy(checker, texts, labels, held_reader)
        report["post_verdicts"][name] = {"n": len(texts), "rules": before, "reader": after}
        print(f"verdict accuracy {name:24s} n={len(texts):3d}  rules {before:.3f}  reader {after:.3f}")

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "posts.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"written to {args.out / 'posts.json'}")


if __name__ == "__main__":
    main()
