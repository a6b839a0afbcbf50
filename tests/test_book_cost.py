"""maintainer.book_cost (make book-cost): step counts, the T4 arithmetic, FLOPs from shapes, a measurement process."""

from __future__ import annotations

import json
import math

import nbformat
import pytest

from dlwp_utils.errors import DLWPError
from maintainer import book_cost as bc

BOOK = {"name": "gemma3_1b", "parameters": 999_885_952}  # KerasHub's published count for the preset


def test_steps_count_the_last_partial_batch():
    assert bc.steps(2000, 32) == 63
    assert bc.steps(64, 32) == 2
    assert bc.steps(1, 128) == 1


def test_a_phase_costs_its_arithmetic_at_the_assumed_efficiency_or_its_slower_input():
    tenth = bc.T4_FLOPS * bc.EFFICIENCY * 0.1  # FLOPs of 0.1 s on a T4
    assert bc.Phase("a", 100, flops=tenth).seconds() == pytest.approx(100 * (0.1 + bc.STEP_OVERHEAD_S))
    assert bc.Phase("a", 100, flops=tenth, input_s=0.5).seconds() == pytest.approx(50.0)
    assert bc.Phase("a", 10, flops=tenth, measured_s=2.0).seconds() == pytest.approx(20.0)
    decode = bc.Phase("a", 10, bytes=bc.T4_BANDWIDTH * bc.BANDWIDTH_EFFICIENCY * 0.02, overhead=0.0)
    assert decode.seconds() == pytest.approx(0.2)
    extras = bc.Phase("a", 0, epochs=50, compiles=3, compile_s=7.0)
    assert extras.seconds() == pytest.approx(50 * bc.EPOCH_OVERHEAD_S + 21.0)


def fake_rows(notebook: str, backend: str = "jax") -> list[dict]:
    """A row per case of `notebook`: 1 FLOP per sample and step, every call 0.5 s, its first 3.5 s, 1 GB above baseline."""
    rows = []
    for spec in (c for c in bc.CASES if c.notebook == notebook):
        row = {"case": spec.name, "notebook": notebook, "backend": backend, "forward_flops_per_sample": 1,
               "train_flops_per_sample": 1, "host_peak_bytes": 3e9, "host_model_bytes": 1e9, "gpu_peak_bytes": None}
        for kind in spec.measure:
            row[f"{kind}_s"], row[f"{kind}_first_s"] = 0.5, 3.5
        rows.append(row)
    return rows


def test_chapter08s_estimate_counts_each_fit_at_the_books_sizes():
    s = bc.book_settings(bc.NOTEBOOKS["chapter08"][0])
    result = bc.estimate("chapter08", fake_rows("chapter08"), "jax")
    phases = {p["label"]: p for p in result["phases"]}
    train, validation = bc.steps(2 * s["TRAIN_PER_CLASS"], s["BATCH_SIZE"]), bc.steps(2 * s["VALIDATION_PER_CLASS"], s["BATCH_SIZE"])
    assert phases["frozen VGG16 + augmentation: fit"]["steps"] == s["FROZEN_EPOCHS"] * train
    assert phases["frozen VGG16 + augmentation: validation"]["steps"] == s["FROZEN_EPOCHS"] * validation
    assert phases["MNIST convnet: fit"]["steps"] == s["MNIST_EPOCHS"] * 750  # 48,000 of MNIST's 60,000 in batches of 64
    # Every step here is input-bound (the fake pipeline takes 0.5 s a batch, the arithmetic nothing) and compiles 3 s.
    augmented = phases["mini Xception: fit"]
    assert augmented["seconds"] == pytest.approx(s["MINI_XCEPTION_EPOCHS"] * (train * 0.5 + bc.EPOCH_OVERHEAD_S) + 3.0)
    total = bc.FIXED_S["chapter08"] + sum(p["seconds"] for p in result["phases"])
    assert result["t4_minutes"] == pytest.approx(total / 60)
    assert result["gpu_peak_bytes"] == 1e9 and not result["gpu_peak_measured"] and result["host_peak_bytes"] == 3e9


def test_a_measured_gpu_peak_replaces_the_estimate_and_the_input_pipeline_is_not_in_it():
    rows = fake_rows("chapter08")
    for row in rows:
        row["gpu_peak_bytes"] = 5e9 if row["case"] == "vgg16_finetune" else 2e9
        if row["case"] == "cats_vs_dogs_input":
            row["gpu_peak_bytes"], row["host_model_bytes"] = 9e9, 9e9
    result = bc.estimate("chapter08", rows, "jax")
    assert result["gpu_peak_bytes"] == 5e9 and result["gpu_peak_measured"]


def test_a_failed_case_leaves_its_notebook_without_an_estimate_and_says_which():
    rows = [dict(r, error="MemoryError: planted") if r["case"] == "gemma_lora" else r for r in fake_rows("chapter15")]
    result = bc.estimate("chapter15", rows, "jax")
    assert "t4_minutes" not in result and "gemma_lora" in result["error"] and "planted" in result["error"]


def test_chapter15_answers_in_calls_of_generate_batch_size_prompts_or_four():
    s = bc.book_settings(bc.NOTEBOOKS["chapter15"][0])
    questions = len(s["QUESTIONS"]) + s["EVAL_EXAMPLES"]
    for given, batch in ((s.get("GENERATE_BATCH_SIZE"), s.get("GENERATE_BATCH_SIZE", 4)), (1, 1), (None, 4)):
        settings = {k: v for k, v in s.items() if k != "GENERATE_BATCH_SIZE"}
        phases = bc.plan_chapter15(dict(settings, **({"GENERATE_BATCH_SIZE": given} if given else {})),
                                   bc.Measured(fake_rows("chapter15")))
        answers = next(p for p in phases if p.label.startswith("answers: "))
        assert answers.steps == 3 * math.ceil(questions / batch) * (s["SEQUENCE_LENGTH"] - bc.ASK_PROMPT_TOKENS)
        assert answers.flops == 2 * bc.gemma_parameters(bc.gemma_config()["config"]) * batch


def test_flops_from_the_layers_shapes():
    import keras
    from keras import layers

    dense = keras.Sequential([keras.Input((784,)), layers.Dense(512), layers.Dense(10)])
    first, second = 2 * 784 * 512, 2 * 512 * 10
    assert bc.model_flops(dense) == (first + second, 2 * first + 3 * second)  # no input gradient before the first
    conv = keras.Sequential([keras.Input((10, 10, 3)), layers.Conv2D(8, 3), layers.SeparableConv2D(4, 3)])
    assert bc.model_flops(conv)[0] == 2 * 8 * 8 * (3 * 3 * 3 * 8) + 2 * 6 * 6 * (3 * 3 * 8 + 8 * 4)
    lstm = keras.Sequential([keras.Input((None, 16)), layers.LSTM(32)])
    assert bc.model_flops(lstm, length=20)[0] == 2 * 20 * (16 * 4 * 32 + 32 * 4 * 32)
    frozen = keras.Sequential([keras.Input((784,)), layers.Dense(512, trainable=False), layers.Dense(10)])
    assert bc.model_flops(frozen)[1] == first + 2 * second  # the frozen layer: its forward pass only


def test_gemmas_count_follows_the_committed_config():
    config = bc.gemma_config()["config"]
    assert bc.gemma_parameters(config) == pytest.approx(BOOK["parameters"], rel=1e-3)  # the norms left out
    tokens = 512
    matmuls = 2 * tokens * bc.gemma_parameters(config)  # each weight once per token, the embedding as the logits
    assert bc.gemma_flops(config, 1, tokens) > matmuls
    assert bc.gemma_flops(config, 2, tokens) == 2 * bc.gemma_flops(config, 1, tokens)


def test_book_settings_are_the_book_values_of_the_parameters_cell(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("EPOCHS = dlwp.by_profile(book=30, embedded=2)  # epochs\nSEED = 42\n"
                                     "MODE = dlwp.by_profile(book='full', embedded='small')")
    cell.metadata["tags"] = ["parameters"]
    nb.cells.append(cell)
    nbformat.write(nb, str(tmp_path / "n.ipynb"))
    assert bc.book_settings("n.ipynb", root=tmp_path) == {"EPOCHS": 30, "SEED": 42, "MODE": "full"}
    (tmp_path / "none.ipynb").write_text(json.dumps(nbformat.v4.new_notebook()))
    with pytest.raises(DLWPError, match="parameters"):
        bc.book_settings("none.ipynb", root=tmp_path)


def test_notebooks_are_chosen_by_folder_key_or_path():
    assert bc.selected(["chapter03"]) == ["chapter03_regression", "chapter03_frameworks"]
    assert bc.selected(["chapter08/chapter08_image_classification.ipynb", "chapter15"]) == ["chapter08", "chapter15"]
    assert bc.selected([]) == list(bc.NOTEBOOKS)
    with pytest.raises(DLWPError, match="chapter08"):
        bc.selected(["chapter99"])


def test_a_measurement_process_reports_more_host_memory_for_a_bigger_model(tmp_path):
    small, big = (bc.run_case("mnist_dense", "jax", 1, False, tmp_path / f"{units}.json", 300,
                              overrides={"units": units, "batch": 8}) for units in (32, 32768))
    for row, units in ((small, 32), (big, 32768)):
        assert "error" not in row, row
        assert row["parameters"] == 784 * units + units + units * 10 + 10
        assert row["train_s"] > 0 and row["train_first_s"] >= row["train_s"]
    # 25.7 million float32 weights (103 MB) and RMSprop's slot for each, at least, above the small one's
    assert big["host_model_bytes"] - small["host_model_bytes"] > 2 * 4 * 784 * 32768
    # the process's peak may be a spike while importing, the same for both, so only "no lower than the model's"
    assert big["host_peak_bytes"] >= big["baseline_bytes"] + big["host_model_bytes"]
