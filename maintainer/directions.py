"""Which way is better, for every metric a notebook records: the one statement the baseline, the report and the floors read.

A name is never guessed from its suffix: `held_out_loss_after_lora` ends in `_lora`, and
`held_out_loss_drop` contains `_loss` but is a gain. A metric missing here stops the baseline
check and the report with one error that names this file; tests/test_directions.py checks that
every metric of the committed baseline and of the chapter notebooks is here, and nothing more.
"""

from __future__ import annotations

HIGHER = "higher"  # a fall is a drop: accuracies, exact matches, gains
LOWER = "lower"  # a rise is a drop: losses, errors, perplexities
EITHER = "either"  # a change either way is a drop: sizes and counts, and what only describes the run

DIRECTIONS: dict[str, str] = {
    # chapter02
    "first_network_test_accuracy": HIGHER,
    "scratch_test_accuracy": HIGHER,  # chapter08 too
    "mnist_dense_parameters": EITHER,
    # chapter03, the frameworks
    "tensorflow_linear_classifier_accuracy": HIGHER,
    "pytorch_linear_classifier_accuracy": HIGHER,
    "jax_linear_classifier_accuracy": HIGHER,
    "keras_linear_classifier_val_accuracy": HIGHER,
    # chapter03, regression
    "slope_accuracy": HIGHER,
    "intercept_accuracy": HIGHER,
    "slope_abs_error": LOWER,
    "intercept_abs_error": LOWER,
    "logistic_val_accuracy": HIGHER,
    "near_zero_fraction_l1": HIGHER,  # L1's lesson: the noise weights end at zero
    "near_zero_fraction_l1_l2": HIGHER,
    "near_zero_fraction_l2": EITHER,  # L2 only shrinks them: describes the run, the gain over it is judged
    "near_zero_fraction_none": EITHER,
    "l1_sparsity_gain_over_l2": HIGHER,
    "l1_val_accuracy": HIGHER,
    "kfold_val_mae": LOWER,
    "kfold_mae_vs_baseline": HIGHER,  # 1 - MAE / the median predictor's MAE
    "test_mae": LOWER,
    "test_mae_vs_baseline": HIGHER,
    # chapter08
    "mnist_test_accuracy": HIGHER,
    "augmented_test_accuracy": HIGHER,
    "feature_extraction_test_accuracy": HIGHER,
    "frozen_base_augmented_test_accuracy": HIGHER,
    "fine_tuned_test_accuracy": HIGHER,
    "mini_xception_test_accuracy": HIGHER,
    "compact_xception_val_accuracy": HIGHER,
    "compact_xception_loss_below_chance": HIGHER,  # ln(100) - the last training loss
    "scratch_val_loss_rise": HIGHER,  # the overfitting the text shows: last minus lowest validation loss
    "scratch_convnet_parameters": EITHER,
    "vgg16_frozen_parameters": EITHER,
    "xception_compact_parameters": EITHER,
    # chapter11
    "test_exact_match": HIGHER,
    "test_token_accuracy": HIGHER,
    "bidirectional_test_exact_match": HIGHER,
    "bidirectional_test_token_accuracy": HIGHER,
    "seq2seq_lstm_parameters": EITHER,
    "stacked_lstm_parameters": EITHER,
    "rnn_cells_parameters": EITHER,
    "seq2seq_source_vocabulary": EITHER,
    "seq2seq_target_vocabulary": EITHER,
    # chapter15
    "exact_match_before_lora": HIGHER,
    "exact_match_after_lora": HIGHER,
    "exact_match_gain": HIGHER,
    "held_out_loss_before_lora": LOWER,
    "held_out_loss_after_lora": LOWER,
    "held_out_perplexity_before_lora": LOWER,
    "held_out_perplexity_after_lora": LOWER,
    "held_out_loss_drop": HIGHER,  # before minus after
    "gemma_parameters": EITHER,
    # the toy notebooks and rows of the runner's and the baseline's tests (tests/*fixtures.py, tests/test_baseline.py)
    "test_accuracy": HIGHER,
    "val_accuracy": HIGHER,
}


class UnknownMetric(KeyError):
    """A recorded metric whose direction nobody stated."""

    def __str__(self) -> str:
        return (f"the metric {self.args[0]!r} has no direction: add it to maintainer/directions.py (DIRECTIONS) as "
                "HIGHER, LOWER or EITHER, so that the baseline, the report and the floors know which change is a drop.")


def direction(metric: str) -> str:
    """HIGHER, LOWER or EITHER for `metric`, from DIRECTIONS; UnknownMetric if it is not there."""
    try:
        return DIRECTIONS[metric]
    except KeyError:
        raise UnknownMetric(metric) from None
