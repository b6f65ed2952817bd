"""The two estimators follow scikit-learn's contract (as ``sklearn/calibration.py``'s do): parameters in
``__init__`` only, fitted state in ``*_`` attributes set by ``fit``, ``check_is_fitted`` before use and
``clone`` per fold. Pure logic on synthetic features: no model, no corpus."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import check_estimator

from pipeline.errors import FactCheckError
from pipeline.retrieve import EvidenceReranker
from pipeline.verify import LABELS, VerdictClassifier, load_models, save_models

# scikit-learn's generic checks make their own targets (0/1/2, "one"/"two", floats, a single class) with a
# handful of rows each. A VerdictClassifier is defined over exactly the three verdict labels, with at least
# 2 x calibration_folds evidence groups per label (its calibration and temperature folds need them), and
# says so in a one-line FactCheckError. Every check below fails for that reason alone; what each of them
# guards (fit returns self, parameters untouched, idempotent fit, clone, persistence, n_features_in_) is
# tested directly on three-label data in the tests that follow.
_NEEDS_VERDICT_LABELS = "targets other than the three verdict labels, or too few evidence groups per label"
VERDICT_CHECKS_THAT_CANNOT_APPLY = dict.fromkeys((
    "check_fit_score_takes_y", "check_estimators_overwrite_params", "check_dont_overwrite_parameters",
    "check_estimators_fit_returns_self", "check_readonly_memmap_input", "check_n_features_in_after_fitting",
    "check_positive_only_tag_during_fit", "check_estimators_dtypes", "check_dtype_object",
    "check_pipeline_consistency", "check_estimators_nan_inf", "check_estimators_pickle",
    "check_f_contiguous_array_estimator", "check_classifier_data_not_an_array", "check_classifiers_one_label",
    "check_classifiers_classes", "check_classifiers_train", "check_classifiers_regression_target",
    "check_supervised_y_2d", "check_methods_sample_order_invariance", "check_methods_subset_invariance",
    "check_fit2d_1sample", "check_fit2d_1feature", "check_dict_unchanged", "check_fit_idempotent",
    "check_fit_check_is_fitted", "check_n_features_in", "check_fit2d_predict1d",
), _NEEDS_VERDICT_LABELS)


def _verdict_data(rows_per_label: int = 40, features: int = 6, seed: int = 0):
    """Separable-ish features for the three labels, two rows per evidence group."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(LABELS, rows_per_label)
    centres = {label: rng.normal(0, 2, features) for label in LABELS}
    x = np.vstack([centres[label] + rng.normal(0, 1.5, features) for label in labels]).astype(np.float32)
    groups = [f"{label}-{i // 2}" for label in LABELS for i in range(rows_per_label)]
    return x, labels, groups


def test_evidence_reranker_passes_every_scikit_learn_check():
    check_estimator(EvidenceReranker())


def test_verdict_classifier_passes_the_checks_that_apply():
    results = check_estimator(VerdictClassifier(), expected_failed_checks=VERDICT_CHECKS_THAT_CANNOT_APPLY,
                              on_fail=None)
    unexpected = {r["check_name"] for r in results
                  if r["status"] == "failed" and r["check_name"] not in VERDICT_CHECKS_THAT_CANNOT_APPLY}
    passed = {r["check_name"] for r in results if r["status"] == "passed"}
    assert not unexpected
    # The checks that do apply (cloning, parameters, unfitted use, sparse and empty input) run and pass.
    assert {"check_get_params_invariance", "check_set_params", "check_estimators_unfitted",
            "check_estimator_sparse_array", "check_estimators_empty_data_messages", "check_no_attributes_set_in_init",
            "check_parameters_default_constructible"} <= passed


def test_verdict_classifier_contract_on_three_label_data(tmp_path):
    x, labels, groups = _verdict_data()
    model = VerdictClassifier(seed=3, calibration_folds=5, regularisation=0.5)
    params = model.get_params()
    with pytest.raises(NotFittedError):
        model.predict_proba(x)
    assert model.fit(x, labels, groups, claim_fingerprints=["a", "b"]) is model
    assert model.get_params() == params
    assert list(model.classes_) == list(LABELS) and model.n_features_in_ == x.shape[1]
    assert model.trained_on_ == frozenset({"a", "b"})
    probabilities = model.predict_proba(x)
    assert probabilities.shape == (len(x), 3) and np.allclose(probabilities.sum(axis=1), 1.0)
    assert (model.predict(x) == labels).mean() > 0.8
    # clone is unfitted with the same parameters; refitting gives the same model
    twin = clone(model)
    assert twin.get_params() == params and not hasattr(twin, "temperature_")
    assert np.array_equal(twin.fit(x, labels, groups).predict_proba(x), probabilities)
    with pytest.raises(ValueError, match="features"):
        model.predict_proba(x[:, :3])
    # persistence keeps parameters, fitted state and the fingerprints
    reranker = EvidenceReranker().fit(x, labels == "supported")
    save_models(tmp_path / "m.skops", model, reranker, {"verdict_features": ["f"] * x.shape[1]})
    loaded, feature_config, reranker_pipeline = load_models(tmp_path / "m.skops")
    assert loaded.get_params() == params and loaded.trained_on_ == model.trained_on_
    assert np.array_equal(loaded.predict_proba(x), probabilities)
    assert np.array_equal(EvidenceReranker.from_fitted_pipeline(reranker_pipeline).evidence_probability(x),
                          reranker.evidence_probability(x))


def test_rows_that_lack_the_optional_columns_are_judged_by_a_model_fit_without_them(tmp_path):
    x, labels, groups = _verdict_data()
    optional = (4, 5)
    model = VerdictClassifier(seed=3, optional_columns=optional).fit(x, labels, groups)
    plain = VerdictClassifier(seed=3).fit(x, labels, groups)
    silent = x.copy()
    silent[::2, 4:] = 0.0  # every other row, as if its passage had no written claims
    lacking = model.lacks_optional(silent)
    assert lacking.tolist() == [i % 2 == 0 for i in range(len(x))]
    assert model.fallback_.n_features_in_ == 4 and model.fallback_.fallback_ is None
    probabilities = model.predict_proba(silent)
    # rows with the columns: the model fit on every column, exactly as without the option
    assert np.allclose(probabilities[~lacking], plain.predict_proba(silent[~lacking]), atol=1e-7)
    # rows without them: the fallback, which never saw those columns
    assert np.allclose(probabilities[lacking], model.fallback_.predict_proba(silent[lacking][:, :4]), atol=1e-7)
    assert not np.allclose(probabilities[lacking], plain.predict_proba(silent[lacking]))
    # each row is flagged at the review threshold of the model that judged it
    between = (min(model.review_threshold_, model.fallback_.review_threshold_)
               + max(model.review_threshold_, model.fallback_.review_threshold_)) / 2
    assert model.needs_review(between, silent[0]) == model.fallback_.needs_review(between)
    assert model.needs_review(between, silent[1]) == (between < model.review_threshold_)
    save_models(tmp_path / "m.skops", model, None, {})
    loaded, _, _ = load_models(tmp_path / "m.skops")
    assert loaded.get_params() == model.get_params()
    assert np.array_equal(loaded.predict_proba(silent), probabilities)


def test_verdict_classifier_refuses_unknown_labels_and_too_few_groups():
    x, labels, groups = _verdict_data(rows_per_label=12)
    with pytest.raises(FactCheckError, match="unknown label values: maybe"):
        VerdictClassifier().fit(x, np.where(labels == "supported", "maybe", labels), groups)
    with pytest.raises(FactCheckError, match="at least 10 examples"):
        VerdictClassifier().fit(x, labels, groups)


def test_the_temperature_is_found_between_grid_points():
    """Verdicts drawn from softmax(z) but reported as softmax(1.37 z) are over-sharp by T = 1.37; the fit
    finds it on a continuous scale, not at the nearest step of a grid."""
    from pipeline.verify import _best_temperature

    rng = np.random.default_rng(5)
    logits = rng.normal(0, 1.5, (30000, 3))
    truth = np.array([rng.choice(3, p=p) for p in np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)])
    reported = np.exp(1.37 * logits)
    reported /= reported.sum(axis=1, keepdims=True)
    assert _best_temperature(reported, truth) == pytest.approx(1.37, abs=0.03)
