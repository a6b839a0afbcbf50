"""maintainer.bench (make bench): the native references build the Keras models' architectures (same
parameter counts; the Gemma 3 decoder computes keras_hub's logits), the rounds interleave, the
report's ratios and calls follow the rules, the device is detected (with fakes: no GPU here),
the notebook check catches what it must, and the quick mode runs end to end."""

from __future__ import annotations

import inspect
import json
import math
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from maintainer.bench import device
from maintainer.bench.__main__ import engine_plan, main as bench_main, rotated
from maintainer.bench.measure import NATIVE_COMPILED, NATIVE_EAGER, time_calls
from maintainer.bench.models import BY_NAME, SPECS
from maintainer.bench.native import BUILDERS, build, gemma3_decoder, trainable_parameters
from maintainer.bench.notebooks import embedded_settings, parameter_count_problems
from maintainer.bench.results import write_results
from maintainer.bench.tables import KERAS_FASTER, NATIVE_FASTER, NO_CALL, Spread, call, compare_calls, summarise


def _keras_trainable(case) -> int:
    return sum(math.prod(w.shape) for w in case.model.trainable_weights)


def test_every_model_has_a_native_reference_with_the_same_signature():
    assert set(BUILDERS) == {s.name for s in SPECS}
    for spec in SPECS:
        keras_side = {k: p.default for k, p in inspect.signature(spec.build).parameters.items()}
        torch_side = {k: p.default for k, p in inspect.signature(BUILDERS[spec.name]).parameters.items()}
        assert keras_side == torch_side, spec.name
        assert set(spec.quick) <= set(keras_side), spec.name


@pytest.mark.parametrize("quick", [True, False], ids=["quick sizes", "bench sizes"])
def test_native_references_train_as_many_parameters_as_the_keras_models(quick):
    for spec in SPECS:
        sizes = spec.sizes(quick)
        assert trainable_parameters(build(spec.name, **sizes).module) == _keras_trainable(spec.build(**sizes)), spec.name


def test_the_frozen_vgg16_trains_only_its_head():
    reference = build("vgg16_frozen", image_size=32, batch=2)
    head = sum(p.numel() for p in reference.module.head.parameters())
    assert trainable_parameters(reference.module) == head == 512 * 256 + 256 + 257
    assert sum(p.numel() for p in reference.module.parameters()) - head == 14_714_688  # VGG16's base


def _gemma3_norm_pairs(keras_backbone, decoder) -> list:
    """(Keras scale variable, torch scale parameter) of every RMSNorm, the final one last."""
    pairs = []
    for i, block in enumerate(decoder.blocks):
        layer = keras_backbone.get_layer(f"decoder_block_{i}")
        names = ["pre_attention_norm", "pre_ffw_norm", "post_attention_norm", "post_ffw_norm"]
        pairs += [(getattr(layer, name).scale, getattr(block, name).scale) for name in names if hasattr(layer, name)]
        pairs += [(layer.attention.query_norm.scale, block.query_norm.scale),
                  (layer.attention.key_norm.scale, block.key_norm.scale)]
    return pairs + [(keras_backbone.layer_norm.scale, decoder.final_norm.scale)]


def _copy_gemma3_weights(keras_backbone, decoder) -> None:
    """keras_hub's Gemma3Backbone weights into the native decoder (Keras kernels are (heads, in, out)); the
    norms' scales, zeros when built, set to random values first so that (1 + scale) is tested."""
    import keras
    import torch

    def t(variable):
        return torch.tensor(keras.ops.convert_to_numpy(variable))

    rng = np.random.default_rng(2)
    with torch.no_grad():
        for variable, parameter in _gemma3_norm_pairs(keras_backbone, decoder):
            variable.assign(rng.normal(0, 0.3, variable.shape).astype("float32"))
            parameter.copy_(t(variable))
        decoder.embedding.weight.copy_(t(keras_backbone.get_layer("token_embedding").embeddings))
        for i, block in enumerate(decoder.blocks):
            layer = keras_backbone.get_layer(f"decoder_block_{i}")
            for name, linear in (("query_dense", block.query), ("key_dense", block.key), ("value_dense", block.value)):
                kernel = t(getattr(layer.attention, name).kernel)  # (heads, hidden, head_dim)
                linear.weight.copy_(kernel.permute(0, 2, 1).reshape(-1, kernel.shape[1]))
            output = t(layer.attention.output_dense.kernel)  # (heads, head_dim, hidden)
            block.attention_output.weight.copy_(output.reshape(-1, output.shape[-1]).T)
            block.gate.weight.copy_(t(layer.gating_ffw.kernel).T)
            block.up.weight.copy_(t(layer.gating_ffw_2.kernel).T)
            block.down.weight.copy_(t(layer.ffw_linear.kernel).T)


def _assert_same_logits(keras_lm, decoder, ids: np.ndarray) -> None:
    """The native decoder, given the Keras model's weights, computes its logits (a right-padded row included)."""
    import keras
    import torch

    _copy_gemma3_weights(keras_lm.backbone, decoder.eval())
    mask = np.ones_like(ids)
    mask[1, 7:] = 0  # a padded row
    expected = keras.ops.convert_to_numpy(keras_lm({"token_ids": ids, "padding_mask": mask}))
    with torch.no_grad():
        got = decoder(torch.from_numpy(ids.astype("int64")), torch.from_numpy(mask)).numpy()
    real = mask.astype(bool)
    assert np.abs(expected).max() > 0.5  # not trivially zero
    np.testing.assert_allclose(got[real], expected[real], atol=2e-4)


def test_the_native_gemma3_decoder_computes_keras_hubs_gemma3_logits():
    case = BY_NAME["gemma_tiny"].build(seq_len=10, batch=2)
    _assert_same_logits(case.model, build("gemma_tiny", seq_len=10, batch=2).module, case.x["token_ids"])


# Gemma3Backbone's options that the tiny recipe leaves at their defaults: sliding windows on 5 layers in 6 (the
# 6th global), rope scaling, no post-norms.
WINDOWED = dict(vocabulary_size=50, num_layers=7, num_query_heads=2, num_key_value_heads=1, hidden_dim=16,
                intermediate_dim=24, head_dim=8, use_sliding_window_attention=True, sliding_window_size=3,
                local_rope_scaling_factor=2.0, global_rope_scaling_factor=8.0)


def test_the_native_gemma3_decoder_follows_sliding_windows_and_rope_scaling():
    import keras_hub

    backbone = keras_hub.models.Gemma3Backbone(image_size=896, **WINDOWED)
    keras_lm = keras_hub.models.Gemma3CausalLM(backbone=backbone, preprocessor=None)
    ids = np.random.default_rng(3).integers(1, WINDOWED["vocabulary_size"], (2, 10)).astype("int32")
    _assert_same_logits(keras_lm, gemma3_decoder(**WINDOWED), ids)


@pytest.mark.parametrize("windowed", [False, True], ids=["tiny recipe", "sliding windows"])
def test_the_native_kv_cache_gives_the_full_forward_passs_logits(windowed):
    import torch

    decoder = (gemma3_decoder(**WINDOWED) if windowed else build("gemma_tiny").module).eval()
    ids = torch.from_numpy(np.random.default_rng(1).integers(1, 50, (2, 9)))
    with torch.no_grad():
        full = decoder(ids, torch.ones_like(ids))
        caches = decoder.new_cache(2, 12, "cpu")
        steps = [decoder.prefill(ids[:, :5], caches)]
        steps += [decoder.decode(ids[:, i:i + 1], torch.tensor([i]), caches) for i in range(5, 9)]
    np.testing.assert_allclose(torch.stack(steps, 1).numpy(), full[:, 4:].numpy(), atol=1e-4)


def test_the_bench_gemma_has_the_notebooks_parameter_count():
    """The notebook records count_params() of tiny_gemma's Gemma3CausalLM: the recipe's Gemma3Backbone."""
    import keras_hub

    from dlwp_utils.data.tiny_gemma import RECIPE

    spec = BY_NAME["gemma_tiny"]
    recipe = keras_hub.models.Gemma3Backbone(vocabulary_size=RECIPE["vocabulary_size"], **RECIPE["backbone"],
                                             **RECIPE["gemma3"])
    assert spec.build(**spec.notebook_sizes({}, {})).model.count_params() == recipe.count_params()


def test_native_generation_makes_the_stated_number_of_tokens():
    reference = build("gemma_tiny_generate", prompt=4, length=12, batch=3)
    tokens = reference.generate("cpu", False)()
    assert tokens.shape == (3, 8) and reference.new_tokens == 24


def test_rounds_rotate_so_that_no_engine_always_goes_first():
    plan = engine_plan(["jax", "torch"], ["mnist_dense"], variants=False, native=True, compiled=True)
    names = [e for e, _, _ in plan]
    assert names == ["jax", "torch", NATIVE_EAGER, NATIVE_COMPILED]
    firsts = [rotated(names, r)[0] for r in range(4)]
    assert sorted(firsts) == sorted(names)
    assert all(sorted(rotated(names, r)) == sorted(names) for r in range(6))
    [tf, xla] = engine_plan(["tensorflow"], ["mnist_dense", "rnn_cells"], variants=True, native=False, compiled=False)
    assert tf[0] == "tensorflow" and tf[1][-1] == "mnist_dense,rnn_cells"
    assert xla[0] == "tensorflow (jit_compile=True)" and xla[1][-3:] == ["true", "--models", "rnn_cells"]
    assert len(engine_plan(["tensorflow"], ["mnist_dense"], variants=True, native=False, compiled=False)) == 1
    # torch's jit_compile=True (torch.compile) on every model; JAX's XLA:CPU options on the convolutions only
    [torch, compiled] = engine_plan(["torch"], ["mnist_dense"], variants=True, native=False, compiled=False)
    assert compiled[0] == "torch (jit_compile=True)" and compiled[1][-3:] == ["true", "--models", "mnist_dense"]
    jax_plan = engine_plan(["jax"], ["mnist_dense", "scratch_convnet"], variants=True, native=False, compiled=False)
    assert [e for e, _, _ in jax_plan] == ["jax", "jax (XLA oneDNN)", "jax (XLA XNNPACK)"]
    assert all(args[-1] == "scratch_convnet" and env["XLA_FLAGS"].startswith("--xla_cpu_use_")
               for _, args, env in jax_plan[1:])
    # torch without dlwp_utils.torch_cpu, on the convolutions only; --variants chooses among the settings
    torch_plan = engine_plan(["torch"], ["mnist_dense", "scratch_convnet"], variants=True, native=False,
                             compiled=False, only={"torch (Keras' own copies)"})
    assert [e for e, _, _ in torch_plan] == ["torch", "torch (Keras' own copies)"]
    assert torch_plan[1][1][-1] == "scratch_convnet" and torch_plan[1][2]["DLWP_TORCH_CPU_LAYOUT"] == "0"


def _rows(model, engine, values, key="train_ms", params=10):
    return [{"model": model, "engine": engine, "round": i + 1, key: v, "params": params, "shape": "s",
             "device": "CPU: test"} for i, v in enumerate(values)]


def test_a_side_is_called_only_when_every_rounds_ratio_is_on_it():
    assert call(Spread.of([0.7, 0.8, 0.95])) == KERAS_FASTER
    assert call(Spread.of([1.05, 1.3, 2.0])) == NATIVE_FASTER
    assert call(Spread.of([0.9, 1.1, 0.8])) == NO_CALL
    assert call(Spread.of([0.5])) == NO_CALL  # one round is no spread


def test_ratios_are_taken_round_by_round_against_the_faster_native():
    # The machine slows down in round 2: every engine doubles, the ratios do not move.
    rows = (_rows("mnist_dense", "jax", [4.0, 8.0, 4.2]) + _rows("mnist_dense", "torch", [6.0, 12.0, 6.0])
            + _rows("mnist_dense", NATIVE_EAGER, [5.0, 10.0, 5.0]) + _rows("mnist_dense", NATIVE_COMPILED, [9.0, 9.0, 9.0]))
    s = summarise(rows, "mnist_dense", ["jax", "torch"])
    assert s.best_keras == "jax" and s.native == NATIVE_EAGER  # eager's median 5.0 beats compile's 9.0
    assert (s.ratio.low, s.ratio.median, s.ratio.high) == pytest.approx((0.8, 0.8, 0.84))
    assert s.verdict == KERAS_FASTER and s.fastest_rounds == 3
    assert s.backend_ratios["torch"].low == pytest.approx(1.2) and call(s.backend_ratios["torch"]) == NATIVE_FASTER


def test_compare_calls_says_which_held():
    before = [{"model": "a", "verdict": KERAS_FASTER}, {"model": "b", "verdict": NATIVE_FASTER},
              {"model": "c", "verdict": NO_CALL}]
    after = [{"model": "a", "verdict": KERAS_FASTER}, {"model": "b", "verdict": KERAS_FASTER},
             {"model": "c", "verdict": NATIVE_FASTER}, {"model": "d", "verdict": NATIVE_FASTER}]
    assert compare_calls(before, after) == [("a", KERAS_FASTER, KERAS_FASTER, "held"),
                                            ("b", NATIVE_FASTER, KERAS_FASTER, "CHANGED"),
                                            ("c", NO_CALL, NATIVE_FASTER, "-")]


def _meta(models, engines, rounds=3):
    return {"date": "2026-01-01", "rounds": rounds, "steps": 3, "quick": False, "engines": engines, "models": models,
            "minutes": 1.0, "load": [1.0, 9.0]}


def test_the_report_shows_spreads_ratios_calls_and_devices(tmp_path):
    rows = (_rows("mnist_dense", "jax", [2.0, 2.2, 2.1]) + _rows("mnist_dense", NATIVE_EAGER, [4.0, 4.1, 3.9])
            + _rows("gemma_tiny_generate", "jax", [50.0, 60.0, 55.0], "generate_ms")
            + _rows("gemma_tiny_generate", NATIVE_EAGER, [40.0, 70.0, 50.0], "generate_ms"))
    for r in rows:
        if "generate_ms" in r:
            r["tokens_per_s"] = 1000.0 / r["generate_ms"]
    previous = [{"model": "mnist_dense", "verdict": KERAS_FASTER}]
    problems = write_results(rows, _meta(["mnist_dense", "gemma_tiny_generate"], ["jax", NATIVE_EAGER]), tmp_path,
                             previous, "benchmarks/results.json")
    assert problems == []
    report = (tmp_path / "results.md").read_text()
    assert "| MNIST dense network | ch02 | s | 2.1 (2.0–2.2) | 4.0 (3.9–4.1) | jax (3/3) | 0.54 (0.50–0.54) vs native " \
           "| Keras faster |" in report
    assert "| tiny Gemma 3, greedy generation |" in report and "no call" in report  # 1.25, 0.86, 1.10
    assert "- CPU: test: jax, native torch" in report and "load average was 1.0 to 9.0" in report
    assert "| MNIST dense network | Keras faster | Keras faster | held |" in report
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["summary"][0]["verdict"] == KERAS_FASTER and len(data["rows"]) == 12
    assert (tmp_path / "results.png").read_bytes()[:4] == b"\x89PNG"


def test_rewrite_writes_the_same_report_again_from_results_json(tmp_path, capsys):
    rows = _rows("mnist_dense", "jax", [2.0, 2.2]) + _rows("mnist_dense", NATIVE_EAGER, [4.0, 4.1])
    write_results(rows, _meta(["mnist_dense"], ["jax", NATIVE_EAGER], rounds=2), tmp_path,
                  [{"model": "mnist_dense", "verdict": NATIVE_FASTER}], "benchmarks/results.json")
    first = (tmp_path / "results.md").read_text()
    (tmp_path / "results.md").write_text("stale")
    assert bench_main(["--rewrite", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "results.md").read_text() == first and "| native faster | Keras faster | CHANGED |" in first
    (tmp_path / "results.json").write_text("{}")
    assert bench_main(["--rewrite", "--out", str(tmp_path)]) == 2
    assert "is not the results.json of a run" in capsys.readouterr().err


def test_the_report_flags_parameter_mismatches_and_failed_processes(tmp_path):
    rows = (_rows("mnist_dense", "jax", [2.0, 2.0], params=10) + _rows("mnist_dense", NATIVE_EAGER, [3.0, 3.0], params=11)
            + [{"model": "*", "engine": "torch", "round": 2, "error": "measurement process failed: timed out after 9 s"}])
    problems = write_results(rows, _meta(["mnist_dense"], ["jax", "torch", NATIVE_EAGER], rounds=2), tmp_path)
    assert any("trainable parameters differ" in p for p in problems)
    assert any("on torch (round 2): measurement process failed: timed out" in p for p in problems)
    assert "| MNIST dense network | ch02 | s | 2.0 (2.0–2.0) | error |" in (tmp_path / "results.md").read_text()


def test_time_calls_separates_the_first_call_and_settles_once():
    calls = []
    first, median = time_calls(lambda: calls.append(1), steps=5)
    assert len(calls) == 7 and first >= 0 and median >= 0


def test_the_device_is_a_gpu_when_the_framework_sees_one():
    cuda = SimpleNamespace(is_available=lambda: True, get_device_name=lambda i: "NVIDIA T4")
    torch = SimpleNamespace(cuda=cuda, device=lambda name: f"device({name})")
    assert device.describe_torch(torch) == "GPU: NVIDIA T4" and device.torch_device(torch) == "device(cuda)"
    jax = SimpleNamespace(devices=lambda: [SimpleNamespace(platform="gpu", device_kind="Tesla T4")])
    assert device.describe_jax(jax) == "GPU: Tesla T4"
    gpu = SimpleNamespace(name="/physical_device:GPU:0")
    tf = SimpleNamespace(config=SimpleNamespace(list_physical_devices=lambda kind: [gpu] if kind == "GPU" else [],
                                                experimental=SimpleNamespace(get_device_details=lambda d: {
                                                    "device_name": "Tesla T4"})))
    assert device.describe_tensorflow(tf) == "GPU: Tesla T4"


def test_the_device_is_the_cpu_otherwise(tmp_path):
    cuda = SimpleNamespace(is_available=lambda: False)
    torch = SimpleNamespace(cuda=cuda, device=lambda name: f"device({name})")
    assert device.describe_torch(torch).startswith("CPU: ") and device.torch_device(torch) == "device(cpu)"
    jax = SimpleNamespace(devices=lambda: [SimpleNamespace(platform="cpu", device_kind="cpu")])
    tf = SimpleNamespace(config=SimpleNamespace(list_physical_devices=lambda kind: []))
    assert device.describe_jax(jax).startswith("CPU: ") and device.describe_tensorflow(tf).startswith("CPU: ")
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: Test CPU 9000\n")
    assert device.cpu_name(info).startswith("CPU: Test CPU 9000, ")


def test_gpu_sharing_settings_are_added_without_overriding_the_callers():
    env = device.sharing_environment({"TF_FORCE_GPU_ALLOW_GROWTH": "false", "PATH": "/bin"})
    assert env == {"XLA_PYTHON_CLIENT_PREALLOCATE": "false", "TF_FORCE_GPU_ALLOW_GROWTH": "false", "PATH": "/bin"}


def _notebook(parameters: str, metrics: dict[str, float], injected: str | None = None) -> dict:
    cells = [{"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": parameters, "outputs": []}]
    if injected:
        cells.append({"cell_type": "code", "metadata": {"tags": ["injected-parameters"]}, "source": injected,
                      "outputs": []})
    outputs = [{"output_type": "display_data", "data": {"application/vnd.dlwp.metric+json": {"name": k, "value": v}}}
               for k, v in metrics.items()]
    cells.append({"cell_type": "code", "metadata": {}, "source": "", "outputs": outputs})
    return {"cells": cells, "metadata": {}}


CH08_PARAMETERS = ("PROFILE = None  # profile\nIMAGE_SIZE = dlwp.by_profile(book=180, embedded=48)  # side\n"
                   "CONV_BLOCKS = dlwp.by_profile(book=5, embedded=3)  # blocks\n")


def test_notebook_settings_are_the_embedded_values_then_the_injected_ones():
    nb = _notebook(CH08_PARAMETERS, {}, injected="# Parameters\nCONV_BLOCKS = 4\n")
    assert embedded_settings(nb) == {"PROFILE": None, "IMAGE_SIZE": 48, "CONV_BLOCKS": 4}


def test_the_notebook_check_passes_a_matching_count_and_explains_a_wrong_one():
    spec = BY_NAME["scratch_convnet"]
    count = spec.build(image_size=48, conv_blocks=3).model.count_params()
    assert parameter_count_problems(spec, _notebook(CH08_PARAMETERS, {spec.metric: count}), "ch08 on jax") == []
    [problem] = parameter_count_problems(spec, _notebook(CH08_PARAMETERS, {spec.metric: count + 1}), "ch08 on jax")
    assert f"has {count + 1:,} parameters" in problem and "image_size=48, conv_blocks=3" in problem


def test_the_notebook_check_says_what_to_record_when_a_metric_is_missing():
    [problem] = parameter_count_problems(BY_NAME["vgg16_frozen"], _notebook(CH08_PARAMETERS, {}), "ch08 on torch")
    assert 'dlwp.record_metric("vgg16_frozen_parameters", model.count_params())' in problem
    seq2seq = BY_NAME["seq2seq_lstm"]
    settings = "EMBED_DIM = 8  # e\nLATENT_DIM = 16  # l\n"
    [problem] = parameter_count_problems(seq2seq, _notebook(settings, {seq2seq.metric: 1.0}), "ch11 on jax")
    assert "seq2seq_source_vocabulary" in problem and "record it with dlwp.record_metric" in problem


def test_every_bench_model_but_generation_names_the_notebook_that_builds_it():
    for spec in SPECS:
        assert (spec.notebook is None) == spec.generation, spec.name


def test_quick_mode_runs_interleaved_rounds_end_to_end(tmp_path):
    done = subprocess.run([sys.executable, "-m", "maintainer.bench", "--quick", "--rounds", "2", "--backends", "torch",
                           "--no-compile", "--no-variants", "--out", str(tmp_path), "--compare", str(tmp_path / "none")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    data = json.loads((tmp_path / "results.json").read_text())
    rows = data["rows"]
    assert not [r for r in rows if "error" in r]
    for engine in ("torch", NATIVE_EAGER):
        assert sorted((r["model"], r["round"]) for r in rows if r["engine"] == engine) == sorted(
            (s.name, i) for s in SPECS for i in (1, 2))
    assert all(r["device"].startswith("CPU: ") for r in rows)
    assert {s["model"] for s in data["summary"] if s["ratio"]} == {s.name for s in SPECS}
    report = (tmp_path / "results.md").read_text()
    assert "QUICK MODE" in report and "| MNIST dense network | ch02 |" in report and "tokens per second" in report
    assert (tmp_path / "results.png").read_bytes()[:4] == b"\x89PNG"


def test_each_setting_is_compared_with_its_backends_defaults_round_by_round(tmp_path):
    rows = (_rows("scratch_convnet", "jax", [100.0, 110.0, 90.0]) + _rows("scratch_convnet", "jax (XLA oneDNN)", [60.0, 70.0, 80.0])
            + _rows("scratch_convnet", "jax (XLA XNNPACK)", [90.0, 120.0, 80.0]))
    engines = ["jax", "jax (XLA oneDNN)", "jax (XLA XNNPACK)"]
    write_results(rows, _meta(["scratch_convnet"], engines, rounds=3), tmp_path)
    report = (tmp_path / "results.md").read_text()
    assert "## Each setting / its backend's defaults, per round" in report
    assert "`jax (XLA oneDNN)`: `XLA_FLAGS=--xla_cpu_use_onednn=true`" in report
    # oneDNN: 0.60, 0.64, 0.89 (faster in every round); XNNPACK: 0.90, 1.09, 0.89 (no call)
    assert "| convnet from scratch | 0.64 (0.60–0.89) faster | 0.90 (0.89–1.09) |" in report


def test_each_chapter_readme_names_the_fastest_backend_the_committed_bench_measured():
    import json

    from maintainer.bench.results import fastest_line
    from maintainer.layout import REPO_ROOT

    committed = json.loads((REPO_ROOT / "benchmarks" / "results.json").read_text(encoding="utf-8"))
    for readme in sorted(REPO_ROOT.glob("chapter*/README.md")):
        line = fastest_line(committed, "ch" + readme.parent.name.removeprefix("chapter"))
        if line is None:
            assert "Fastest backend" not in readme.read_text(encoding="utf-8")
            continue
        assert line in readme.read_text(encoding="utf-8"), (
            f"{readme} does not say, as benchmarks/results.json does: {line}")
