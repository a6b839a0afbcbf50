"""What each notebook's text says its run shows, and the assertion that checks it on every backend.

One entry per comparison or result a notebook's markdown states: the notebook, the exact phrase
(tests/test_claims.py fails when the phrase is no longer in the notebook, and when a chapter
notebook has no entry), and the check. The checks:

- AtLeast / AtMost / Equals: a recorded metric against a number, on every backend;
- Beats: one recorded metric better than another by a margin, "better" read from
  maintainer/directions.py (a lower loss beats a higher one);
- Printed: a True/False or a value the notebook prints, in a cell whose output nbval compares with
  the committed one (`nbval-check-output`): the committed output holds the text, and so must the
  executed notebook's, on every backend;
- SpreadRange: a range the text quotes from `make spread` equals the committed tests/results/spread.json;
- Bench: a speed the text quotes from `make bench` holds in the committed benchmarks/results.json;
- Labelled: a figure that is not this run's (the book's, or one measured once under other
  settings), which the phrase itself must say.

The metric checks run in tests/results/results_check.py on every executed notebook and in
tests/test_spread.py on every run `make spread` committed; the others in tests/test_claims.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maintainer.directions import EITHER, HIGHER, direction

ROOT = Path(__file__).resolve().parents[2]
CH02 = "chapter02/chapter02_mathematical_building_blocks.ipynb"
CH03_FRAMEWORKS = "chapter03/chapter03_tensorflow_pytorch_jax_keras.ipynb"
CH03_REGRESSION = "chapter03/chapter03_regression.ipynb"
CH08 = "chapter08/chapter08_image_classification.ipynb"
CH11 = "chapter11/chapter11_sequence_to_sequence.ipynb"
CH15 = "chapter15/chapter15_language_models_gemma.ipynb"


@dataclass(frozen=True)
class Value:
    """A recorded metric against a number: `relation` is "at least", "at most" or "exactly"."""

    metric: str
    relation: str
    value: float

    def metrics(self) -> tuple[str, ...]:
        return (self.metric,)

    def problem(self, metrics: dict[str, float]) -> str | None:
        got = metrics[self.metric]
        holds = {"at least": got >= self.value, "at most": got <= self.value, "exactly": got == self.value}
        return None if holds[self.relation] else f"{self.metric} = {got:.6g}, not {self.relation} {self.value:.6g}"


def AtLeast(metric: str, value: float) -> Value:  # noqa: N802 (reads as the table's other checks)
    return Value(metric, "at least", value)


def AtMost(metric: str, value: float) -> Value:  # noqa: N802
    return Value(metric, "at most", value)


def Equals(metric: str, value: float) -> Value:  # noqa: N802
    return Value(metric, "exactly", value)


@dataclass(frozen=True)
class Beats:
    """`better` is better than `worse` by at least `margin`, in their direction (maintainer/directions.py)."""

    better: str
    worse: str
    margin: float

    def metrics(self) -> tuple[str, ...]:
        return (self.better, self.worse)

    def problem(self, metrics: dict[str, float]) -> str | None:
        way = direction(self.better)
        if way == EITHER or way != direction(self.worse):
            return f"{self.better} and {self.worse} do not share a direction in maintainer/directions.py"
        a, b = metrics[self.better], metrics[self.worse]
        gain = a - b if way == HIGHER else b - a
        if gain >= self.margin:
            return None
        word = "above" if way == HIGHER else "below"
        return f"{self.better} = {a:.4g} is not {self.margin} {word} {self.worse} = {b:.4g}"


@dataclass(frozen=True)
class Printed:
    """The code cell whose source contains `code` is checked by nbval and prints `text`."""

    code: str
    text: str

    def cell(self, notebook: dict[str, Any]) -> dict[str, Any] | None:
        found = [c for c in notebook["cells"] if c["cell_type"] == "code" and self.code in "".join(c["source"])]
        return found[0] if len(found) == 1 else None

    def static_problem(self, notebook: dict[str, Any]) -> str | None:
        cell = self.cell(notebook)
        if cell is None:
            return f"not exactly one code cell contains {self.code!r}"
        if "nbval-check-output" not in cell.get("metadata", {}).get("tags", []):
            return f"the cell with {self.code!r} is not tagged nbval-check-output, so nothing compares its output"
        return None if self.text in printed(cell) else f"the committed output of {self.code!r} does not hold {self.text!r}"

    def executed_problem(self, executed: dict[str, Any]) -> str | None:
        cell = self.cell(executed)
        if cell is None or self.text not in printed(cell):
            return f"the cell with {self.code!r} did not print {self.text!r}"
        return None


@dataclass(frozen=True)
class SpreadRange:
    """`make spread`'s runs of `metric` (minus `minus` in the same run), over every backend and variation, range
    from `low` to `high` (to 2 digits)."""

    metric: str
    low: float
    high: float
    minus: str | None = None

    def static_problem(self, notebook_path: str) -> str | None:
        spread = json.loads((ROOT / "tests/results/spread.json").read_text(encoding="utf-8"))["spread"]
        values = [value - (metrics[self.minus]["values"][run] if self.minus else 0.0)
                  for metrics in spread.get(notebook_path, {}).values() if self.metric in metrics
                  for run, value in metrics[self.metric]["values"].items()]
        name = self.metric + (f" - {self.minus}" if self.minus else "")
        if not values:
            return f"tests/results/spread.json has no {name} for {notebook_path}"
        low, high = min(values), max(values)
        if (round(low, 2), round(high, 2)) != (self.low, self.high):
            return f"make spread measured {name} from {low:.3f} to {high:.3f}, the text says {self.low} to {self.high}"
        return None


@dataclass(frozen=True)
class Bench:
    """In the committed benchmarks/results.json, `model` trains at least `factor` times slower on `slower` than on `faster`."""

    model: str
    slower: str
    faster: str
    factor: float

    def static_problem(self, notebook_path: str) -> str | None:
        results = json.loads((ROOT / "benchmarks/results.json").read_text(encoding="utf-8"))
        summary = {s["model"]: s for s in results["summary"]}[self.model]["backend_ratios"]
        ratio = summary[self.slower]["median"] / summary[self.faster]["median"]
        if ratio >= self.factor:
            return None
        return (f"benchmarks/results.json: {self.model} is {ratio:.2f}x slower on {self.slower} than on "
                f"{self.faster}, not {self.factor}x")


@dataclass(frozen=True)
class Labelled:
    """A figure that is not this run's: the phrase must say whose it is (`label`)."""

    label: str

    def static_problem(self, phrase: str) -> str | None:
        return None if self.label in phrase else f"the phrase does not say {self.label!r}"


Check = Value | Beats | Printed | SpreadRange | Bench | Labelled
METRIC_CHECKS = (Value, Beats)


@dataclass(frozen=True)
class Claim:
    notebook: str
    phrase: str  # exact text of one of the notebook's markdown cells
    check: Check


def printed(cell: dict[str, Any]) -> str:
    """Everything a code cell wrote to its streams."""
    return "".join("".join(o.get("text", "")) for o in cell.get("outputs", []) if o.get("output_type") == "stream")


# Margins on accuracies: 800 test pictures (chapter08) give a standard error of about 0.013 on each
# accuracy and 0.018 on a difference; 600 test sentences (chapter11) about 0.02 on a difference.
# The measured values are in tests/results/spread/ (make spread: 3 backends x 4 variations).
CLAIMS: list[Claim] = [
    # ------------------------------------------------------------------ chapter02
    Claim(CH02, "They compute exactly what NumPy's vectorised operations compute:",
          Printed("np.allclose(naive_relu(naive_add(x, y))", "True")),
    Claim(CH02, "The predicted class is the index of the highest score. Chance is 10%.",
          AtLeast("scratch_test_accuracy", 0.85)),  # measured 0.894-0.908
    Claim(CH02, "The same `NaiveDense` and `NaiveSequential` code trained here on your backend",
          AtLeast("scratch_test_accuracy", 0.85)),
    Claim(CH02, "Evaluating the model on images it has never seen.",
          AtLeast("first_network_test_accuracy", 0.90)),  # chance 0.10; measured 0.947-0.975
    # ------------------------------------------------------------------ chapter03, the frameworks
    Claim(CH03_FRAMEWORKS, "NumPy arrays are assignable; TensorFlow tensors are not: they are constants.",
          Printed("x[0, 0] = 0.0", "does not support item assignment")),
    Claim(CH03_FRAMEWORKS, "(The derivative of x² at x = 3 is 6.)",
          Printed("tape.gradient(result, input_var)", "tf.Tensor(6.0")),
    Claim(CH03_FRAMEWORKS, "its acceleration the second\nderivative, the constant 9.8 m/s².",
          Printed("acceleration", "acceleration: 9.8")),
    Claim(CH03_FRAMEWORKS, "Gradients *accumulate*: a second `backward()` adds to `.grad`.",
          Printed("accumulated", "accumulated: tensor(12.)\nafter a reset: tensor(6.)")),
    Claim(CH03_FRAMEWORKS, "The module and the hand-written loop did the same arithmetic, so they learned the same weights:",
          Printed("torch.allclose(model.W, W)", "True True")),
    Claim(CH03_FRAMEWORKS, "the same key\nalways gives the same numbers.",
          Printed("same key, same numbers", "same key, same numbers: True\nnew key, new numbers: True")),
    Claim(CH03_FRAMEWORKS, "the three frameworks learned the same classifier",
          Printed("learned the same line", "TensorFlow and PyTorch learned the same line: True\n"
                  "TensorFlow and JAX learned the same line: True")),
    Claim(CH03_FRAMEWORKS, "40 steps of gradient descent: you will see them draw the same line.",
          AtLeast("tensorflow_linear_classifier_accuracy", 0.95)),  # chance 0.50; measured 0.997-0.998
    Claim(CH03_FRAMEWORKS, "40 steps of gradient descent: you will see them draw the same line.",
          AtLeast("pytorch_linear_classifier_accuracy", 0.95)),
    Claim(CH03_FRAMEWORKS, "40 steps of gradient descent: you will see them draw the same line.",
          AtLeast("jax_linear_classifier_accuracy", 0.95)),
    Claim(CH03_FRAMEWORKS, "On this notebook's test machine (a 2-core CPU), the first call with `\"inductor\"` takes 4 to 12\nseconds",
          Labelled("On this notebook's test machine")),
    # ------------------------------------------------------------------ chapter03, regression
    Claim(CH03_REGRESSION, "The tests of this notebook require both to land within 5% of the truth.",
          AtLeast("slope_accuracy", 0.95)),  # measured 0.977-0.999
    Claim(CH03_REGRESSION, "The tests of this notebook require both to land within 5% of the truth.",
          AtLeast("intercept_accuracy", 0.95)),  # measured 0.977-0.993
    Claim(CH03_REGRESSION, "The tests of this notebook require both to land within 5% of the truth.",
          Printed("within 0.1 of the truth", "slope within 0.1 of the truth: True\nintercept within 0.1 of the truth: True")),
    Claim(CH03_REGRESSION, "the same unit behind a sigmoid, trained with binary\n  cross-entropy, separates two classes",
          AtLeast("logistic_val_accuracy", 0.85)),  # chance 0.50; measured 0.930-0.940 (best possible ~0.93)
    Claim(CH03_REGRESSION, "an unregularised model finds chance patterns in\nthe noise and gives those features weight",
          AtMost("near_zero_fraction_none", 0.5)),  # measured 0.167-0.333 of the 30 noise weights near zero
    Claim(CH03_REGRESSION, "L1 sets the useless weights to (almost) zero; L2 only\n  shrinks them.",
          AtLeast("l1_sparsity_gain_over_l2", 0.30)),  # near zero under L1 minus under L2; measured 0.53-0.80
    Claim(CH03_REGRESSION, "L1 sets the useless weights to (almost) zero; L2 only\n  shrinks them.",
          Printed("L1 sets more noise weights", "L1 sets more noise weights to (near) zero than L2: True\n"
                  "L1 sets most of them to (near) zero: True")),
    Claim(CH03_REGRESSION, "every weight shrinks, in proportion to its size; few reach zero.",
          AtMost("near_zero_fraction_l2", 0.5)),  # measured 0.200-0.467
    Claim(CH03_REGRESSION, "L1's bars are all grey but the first two.",
          Equals("near_zero_fraction_l1", 1.0)),  # measured 1.00 in every run
    Claim(CH03_REGRESSION, "The simplest possible predictor, always answering the median of the training\ntargets, sets the bar",
          AtLeast("kfold_mae_vs_baseline", 0.30)),  # 1 - MAE / the median's MAE; measured 0.451-0.458
    Claim(CH03_REGRESSION, "The simplest possible predictor, always answering the median of the training\ntargets, sets the bar",
          AtLeast("test_mae_vs_baseline", 0.30)),  # measured 0.492-0.527
    Claim(CH03_REGRESSION, "both computed **on the training data only**",
          Printed("std 1", "train features: mean 0: True  std 1: True")),
    # ------------------------------------------------------------------ chapter08
    Claim(CH08, "Its feature maps stay large (22 x 22\nafter three convolutions)",
          Printed("shapes_and_params", "Conv2D  (22, 22, 128)")),
    Claim(CH08, "gives a huge `Dense` layer that would overfit at once.",
          Printed("shapes_and_params", "Dense   (10,)              619,530")),
    Claim(CH08, "Training accuracy keeps climbing while the validation loss, after its lowest point, turns up\nagain",
          AtLeast("scratch_val_loss_rise", 0.04)),  # last minus lowest val loss; measured 0.050-0.839
    Claim(CH08, "measured on TensorFlow, seed 42:\n0.887 from scratch, 0.902 with augmentation",
          Labelled("measured on TensorFlow, seed 42")),
    Claim(CH08, "Since it overfits later, it can train longer.",
          Beats("augmented_test_accuracy", "scratch_test_accuracy", 0.02)),  # measured +0.031..+0.131
    Claim(CH08, "the book's figure, not this run's",
          Labelled("the book's figure")),
    Claim(CH08, "freeze the base (`trainable = False`) so that its weights are not changed by\ntraining.",
          Printed("Trainable weights after freezing", "Trainable weights after freezing the conv base: 0")),
    Claim(CH08, "Unfreeze the last block of VGG16 (`block5`: three convolutions and a pooling layer)",
          Printed("Trainable layers of the base", "['block5_conv1', 'block5_conv2', 'block5_conv3', 'block5_pool']")),
    Claim(CH08, "In the book it is\nalso better than fast feature extraction: on 2,000 photos of 180 x 180 trained for 50 epochs,\n"
                "augmentation keeps the classifier from overfitting (the book's result, not this run's)",
          Labelled("the book's result, not this run's")),
    Claim(CH08, "It beats the convnet trained from scratch, but scores\nbelow fast feature extraction",
          Beats("frozen_base_augmented_test_accuracy", "scratch_test_accuracy", 0.03)),
    Claim(CH08, "It beats the convnet trained from scratch, but scores\nbelow fast feature extraction",
          Beats("feature_extraction_test_accuracy", "frozen_base_augmented_test_accuracy", 0.01)),
    Claim(CH08, "by 0.017 to 0.082 in\n`make spread`'s runs",
          SpreadRange("feature_extraction_test_accuracy", 0.02, 0.08, minus="frozen_base_augmented_test_accuracy")),
    Claim(CH08, "In the\nmaintainers' trials (TensorFlow, seed 42, not this run's), the validation loss jumped from epoch\n"
                "to epoch (between 0.16 and 1.23), and no change lifted the test accuracy above fast feature\n"
                "extraction's 0.957",
          Labelled("maintainers' trials (TensorFlow, seed 42, not this run's)")),
    Claim(CH08, "Adam took the best frozen model from 0.935 to 0.839 test accuracy in 3 epochs\n(TensorFlow, seed 42)",
          Labelled("(TensorFlow, seed 42)")),
    Claim(CH08, "several times slower on JAX\nthan on TensorFlow",
          Bench("xception_compact", "jax", "tensorflow", 2.0)),  # 5.5x in the run of 2026-12-04
    Claim(CH08, "more than 1.5 times slower than on PyTorch",
          Bench("xception_compact", "jax", "torch", 1.5)),  # 1.77x in the run of 2026-12-04
    Claim(CH08, "A forward pass on two random 200 x 200 pictures: one probability per class, summing to 1.",
          Printed("sums", "predictions: (2, 100)  sums: [1. 1.]")),
    Claim(CH08, "Chance is 1% accuracy, and a\nloss of ln(100) = 4.605.",
          AtLeast("compact_xception_val_accuracy", 0.10)),  # measured 0.34-0.52
    Claim(CH08, "Chance is 1% accuracy, and a\nloss of ln(100) = 4.605.",
          AtLeast("compact_xception_loss_below_chance", 0.3)),  # ln(100) - last training loss; measured 3.28-3.77
    Claim(CH08, "RMSprop\nreached 0.66 to 0.89 over the twelve runs of `make spread`",
          SpreadRange("mini_xception_test_accuracy", 0.66, 0.89)),
    Claim(CH08, "(seed 42), Adam left it at 0.61 test accuracy on TensorFlow and 0.80 on JAX",
          Labelled("(seed 42)")),
    Claim(CH08, "and 0.69 to 0.90 under Colab's versions",
          Labelled("under Colab's versions")),
    Claim(CH08, "each of the\n  three beat the convnet trained from scratch",
          Beats("feature_extraction_test_accuracy", "scratch_test_accuracy", 0.05)),  # measured +0.101..+0.173
    Claim(CH08, "each of the\n  three beat the convnet trained from scratch",
          Beats("frozen_base_augmented_test_accuracy", "scratch_test_accuracy", 0.03)),  # measured +0.084..+0.099
    Claim(CH08, "each of the\n  three beat the convnet trained from scratch",
          Beats("fine_tuned_test_accuracy", "scratch_test_accuracy", 0.05)),  # measured +0.077..+0.096
    Claim(CH08, "the validation loss of the small convnet\n  turned up after its best epoch",
          AtLeast("scratch_val_loss_rise", 0.04)),
    Claim(CH08, "data augmentation with dropout fought it",
          Beats("augmented_test_accuracy", "scratch_test_accuracy", 0.02)),
    # ------------------------------------------------------------------ chapter11
    Claim(CH11, "With the weights, Keras' loss must not move; without them\n(all weights 1), it must.",
          Printed("padded targets scrambled", "padded targets scrambled, loss unchanged: True\n"
                  "the same without the weights, loss unchanged: False")),
    Claim(CH11, "An old Keras result measured the cell stack **about 15% faster on CPU**",
          Labelled("An old Keras result")),
    Claim(CH11, "Both models below have the same weight shapes and\nthe same number of weights.",
          Printed("the same weight shapes", "the same weight shapes: True")),
    Claim(CH11, "the bidirectional encoder translated more of the held-out sentences exactly than the plain one",
          Beats("bidirectional_test_exact_match", "test_exact_match", 0.03)),  # measured +0.06..+0.17
    Claim(CH11, "measure\n   exact-match and token accuracy on held-out sentences.",
          AtLeast("test_exact_match", 0.40)),  # chance 0.00; measured 0.695-0.843
    # ------------------------------------------------------------------ chapter15
    Claim(CH15, "and 9,984 of the\n   tiny Gemma's 205,248 (4.9%)",
          Printed("trainable parameters", "trainable parameters: 205,248 before LoRA, 9,984 with LoRA rank 8 (4.86%)")),
    Claim(CH15, "at rank 8, 1,304,576 parameters of Gemma 3 1B's 999,885,952 (0.13%)",
          Labelled("Gemma 3 1B")),  # the book profile's model: no offline run loads it
    Claim(CH15, "the\ntiny Gemma's 400 pieces have none for \"é\"",
          Printed("byte_pieces", "'café' -> 5 tokens: ['c', 'a', 'f', '<0xC3>', '<0xA9>']")),
    Claim(CH15, "With the greedy\nsampler there is nothing random, so it must write what the hand-written greedy loop wrote:",
          Printed("greedy_keras_hub == outputs_by_hand", "gives the hand-written loop's text: True")),
    Claim(CH15, "The prompt and the padding count for nothing in the loss",
          Printed("targets in the loss", "left out: 27 of 32 targets")),
    Claim(CH15, "The held-out loss before and after shows what it changed",
          Beats("held_out_loss_after_lora", "held_out_loss_before_lora", 3.0)),  # measured 6.61-6.75 lower
    Claim(CH15, "answer the same prompts before and after, side by side",
          Beats("exact_match_after_lora", "exact_match_before_lora", 0.3)),  # 20 questions; measured +0.70..+1.00
    Claim(CH15, "Reloaded, the model must give exactly the same greedy\nanswers, and the same exact match.",
          Printed("answers_reloaded == answers_after", "the reloaded model gives the same greedy answers and exact match: True")),
    Claim(CH15, "The three runs computed the same step: the losses agree to float32 rounding, and so do the\n"
                "weights after the update",
          Printed("loss equals the one-device loss", "data_parallel: loss equals the one-device loss within 0.0001: True\n"
                  "model_parallel: loss equals the one-device loss within 0.0001: True")),
    Claim(CH15, "The three runs computed the same step: the losses agree to float32 rounding, and so do the\n"
                "weights after the update",
          Printed("weights after the step equal", "weights after the step equal the one-device ones within 1e-5: True")),
    Claim(CH15, "a *tiny* Gemma 3 (two layers, 205 thousand\nparameters)",
          Equals("gemma_parameters", 205248)),
    Claim(CH15, "in the book\n  profile it stays near 0",
          Labelled("in the book\n  profile")),
    # 15.5, Kinetic off (every make test run); tests/test_kinetic.py runs the same cells with a job's weights
    Claim(CH15, "A fresh model from the same preset, with LoRA enabled at the same rank, answers like the\n"
                "pretrained model (`B` starts at zero)",
          Printed("answers_without == answers_before", "without the LoRA weights it answers like the pretrained model: True")),
    Claim(CH15, "with the weights loaded it answers like the fine-tuned one",
          Printed("answers_loaded != answers_without", "the loaded LoRA weights change the answers: True\n"
                  "with them the model scores a higher exact match: True")),
    Claim(CH15, "At Google Cloud's list price when this section was\n   written (about $1.20 per TPU v5e chip-hour on demand)",
          Labelled("Google Cloud's list price")),  # not a result of this run: a price, to check on the pricing page
]


def claims_of(notebook: str) -> list[Claim]:
    """The claims of one notebook (its path relative to the repository)."""
    return [claim for claim in CLAIMS if claim.notebook == notebook]


def metric_problems(notebook: str, metrics: dict[str, float]) -> list[str]:
    """What the recorded `metrics` of one run of `notebook` contradict: one line per claim that fails."""
    problems = []
    for claim in claims_of(notebook):
        if not isinstance(claim.check, METRIC_CHECKS):
            continue
        missing = [name for name in claim.check.metrics() if name not in metrics]
        problem = (f"recorded no {missing} (it recorded {sorted(metrics)})" if missing
                   else claim.check.problem(metrics))
        if problem:
            problems.append(f"{problem}, so the text's {claim.phrase!r} does not hold")
    return problems


def executed_problems(notebook: str, executed: dict[str, Any]) -> list[str]:
    """The Printed claims of `notebook` that its executed copy does not show."""
    problems = []
    for claim in claims_of(notebook):
        if isinstance(claim.check, Printed):
            problem = claim.check.executed_problem(executed)
            if problem:
                problems.append(f"{problem}, so the text's {claim.phrase!r} does not hold")
    return problems
