"""The claim memory's matcher on labelled pairs: chooses ``workbench.memory_threshold`` on train+dev and
reports precision and recall at that threshold on the test split.

Pairs come from corpus/labelled/claims.csv: two claims of one evidence group with the same label are
"the same claim" (mostly paraphrases, posts and claims saying one thing); every other pair of claims is
"different" (among them the set's many minimal contrasts: "twee op de vijf" / "vier op de vijf"). Pairs
are formed within train+dev and within test, never across. The threshold chosen is the lowest at which
the matcher's precision on train+dev pairs reaches ``--min-precision`` (a proposed past verdict should
be the right claim's); where no threshold reaches it, the one with the highest F1.

Each claim is read as the workbench reads it: checked by the real pipeline (model, index, verdict model;
run `make setup` first), its checked claim normalised and embedded, with the checker's own verdict on it.
The cosine-only matcher (no meaning checks, no verdict agreement) is reported beside it.

    .venv/bin/python bench/memory.py                  # about a minute on 2 cores
    .venv/bin/python bench/memory.py --min-precision 0.8
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.checker import FactChecker  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.report import read_labelled  # noqa: E402
from pipeline.runtime import configure_runtime  # noqa: E402
from pipeline.workbench.memory import MemoryKey, memory_text, similarity  # noqa: E402


@dataclass(frozen=True)
class Pairs:
    scores: np.ndarray      # the matcher's score per pair
    same: np.ndarray        # whether the pair is "the same claim"


def keys_of(checker: FactChecker, claims: list[str]) -> list[MemoryKey]:
    """Each labelled claim as the memory stores it: the deciding claim as checked, its embedding and the
    checker's verdict on it."""
    results = checker.check_many(claims)
    checked, verdicts, denied = [], [], []
    for text, result in zip(claims, results):
        deciding = next((c for c in result.claims if c.checked_claim == result.checked_claim), None)
        checked.append(memory_text(deciding.checked_claim if deciding else text))
        verdicts.append(deciding.claim_verdict if deciding else None)
        denied.append(deciding is not None and deciding.stance == "denies")
    vectors = np.asarray(checker.encoder.encode_queries(checked), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return [MemoryKey(text, vectors[row], verdict, flag)
            for row, (text, verdict, flag) in enumerate(zip(checked, verdicts, denied))]


def pairs(keys: list[MemoryKey], groups: list[str], labels: list[str], guarded: bool) -> Pairs:
    scores, same = [], []
    matrix = np.vstack([key.vector for key in keys])
    cosines = matrix @ matrix.T
    for a in range(len(keys)):
        for b in range(a + 1, len(keys)):
            cosine = float(cosines[a, b])
            scores.append(similarity(keys[a], keys[b], cosine) if guarded else
                          (1.0 if keys[a].text == keys[b].text else cosine))
            same.append(groups[a] == groups[b] and labels[a] == labels[b])
    return Pairs(np.array(scores), np.array(same))


def precision_recall(found: Pairs, threshold: float) -> tuple[float, float, int, int]:
    predicted = found.scores >= threshold
    true_positives = int((predicted & found.same).sum())
    precision = true_positives / max(int(predicted.sum()), 1)
    recall = true_positives / max(int(found.same.sum()), 1)
    return precision, recall, int(predicted.sum()), true_positives


def choose_threshold(found: Pairs, min_precision: float) -> tuple[float, str]:
    """Every distinct positive score is a candidate threshold; precision and recall at each come from one
    sort (matched at t = every pair scoring t or more)."""
    order = np.argsort(-found.scores, kind="stable")
    scores, same = found.scores[order], found.same[order]
    true_positives, matched = np.cumsum(same), np.arange(1, len(same) + 1)
    last = np.r_[scores[1:] != scores[:-1], True] & (scores > 0)  # the last pair of each run of equal scores
    precision, recall = true_positives[last] / matched[last], true_positives[last] / max(int(same.sum()), 1)
    candidates = scores[last]
    reaching = (precision >= min_precision) & (true_positives[last] > 0)
    if reaching.any():
        return float(candidates[reaching].min()), f"lowest with precision >= {min_precision}"
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    return float(candidates[int(np.argmax(f1))]), f"highest F1; no threshold reaches precision {min_precision}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=None)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override one config value, as the CLI's --set")
    parser.add_argument("--min-precision", type=float, default=0.9)
    args = parser.parse_args()
    config = load_config(args.config, args.overrides)
    configure_runtime(config)
    checker = FactChecker(config)
    checker.load_classifier()
    frame = read_labelled(config.path("labelled_claims"), None)
    started = time.perf_counter()
    keys = keys_of(checker, list(frame["claim"]))
    print(f"{len(keys)} labelled claims checked and embedded in {time.perf_counter() - started:.0f} s")
    chosen_rows = [i for i, split in enumerate(frame["split"]) if split in ("train", "dev")]
    test_rows = [i for i, split in enumerate(frame["split"]) if split == "test"]
    groups, labels = list(frame["group"]), list(frame["label"])

    def split_pairs(rows: list[int], guarded: bool) -> Pairs:
        return pairs([keys[i] for i in rows], [groups[i] for i in rows], [labels[i] for i in rows], guarded)

    print("| matcher | threshold (chosen on train+dev) | train+dev precision | recall | test precision | test recall "
          "| test pairs matched | test same-claim pairs |")
    print("|---|---|---|---|---|---|---|---|")
    for name, guarded in (("cosine only", False), ("cosine + meaning checks + same checker verdict", True)):
        fitting, held_out = split_pairs(chosen_rows, guarded), split_pairs(test_rows, guarded)
        threshold, how = choose_threshold(fitting, args.min_precision)
        fit_p, fit_r, _, _ = precision_recall(fitting, threshold)
        test_p, test_r, matched, _ = precision_recall(held_out, threshold)
        print(f"| {name} | {threshold:.3f} ({how}) | {fit_p:.3f} | {fit_r:.3f} | {test_p:.3f} | {test_r:.3f} "
              f"| {matched} | {int(held_out.same.sum())} of {len(held_out.same)} |")
    print("\nthe workbench uses the second matcher; put its threshold in configs/default.yaml (workbench.memory_threshold)")


if __name__ == "__main__":
    main()
