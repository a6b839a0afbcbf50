"""One fine-tuning step of the tiny Gemma on one device, then data parallel, then model parallel."""
import json
import sys

import keras
import keras_hub
import numpy as np

preset = sys.argv[1]
pairs = [(1, 2), (3, 4), (5, 6), (7, 8), (9, 1), (2, 3), (4, 5), (6, 7)]
texts = [f"Instruction:\nWhat is {a} plus {b}?\n\nResponse:\n{a + b}" for a, b in pairs]
devices = keras.distribution.list_devices()
print(f"backend {keras.backend.backend()}, {len(devices)} devices: {', '.join(devices)}")


def one_training_step():
    """Load the preset (under the current distribution), then one SGD step on the same 8 texts."""
    model = keras_hub.models.CausalLM.from_preset(preset, dtype="float32")
    model.preprocessor.sequence_length = 24
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.1),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    loss = model.train_on_batch(texts, return_dict=True)["loss"]
    return model, float(loss)


def query_kernel(model):
    return model.backbone.get_layer("decoder_block_0").attention.query_dense.kernel


# 1. One device: the reference.
model, loss = one_training_step()
reference = keras.ops.convert_to_numpy(query_kernel(model).value)
results = {"devices": len(devices), "single_device_loss": loss}
print(f"one device:     loss {loss:.6f}")

# 2. Data parallel: all the weights on every device, the batch of 8 split 8 ways.
keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
model, loss = one_training_step()
kernel = query_kernel(model)
results["data_parallel_loss"] = loss
results["data_parallel_spec"] = str(kernel.value.sharding.spec)
print(f"data parallel:  loss {loss:.6f}; {kernel.path} {tuple(kernel.shape)} laid out as {kernel.value.sharding.spec}")

# 3. Model parallel: a 4 x 2 mesh; Gemma's layout map splits the weights along "model" (and "batch").
mesh = keras.distribution.DeviceMesh(shape=(4, 2), axis_names=("batch", "model"), devices=devices)
layout_map = keras_hub.models.GemmaBackbone.get_layout_map(mesh)
keras.distribution.set_distribution(keras.distribution.ModelParallel(layout_map=layout_map, batch_dim_name="batch"))
model, loss = one_training_step()
kernel = query_kernel(model)
shard = kernel.value.addressable_shards[0]
results["model_parallel_loss"] = loss
results["model_parallel_spec"] = str(kernel.value.sharding.spec)
results["shard_shape"] = list(shard.data.shape)
results["max_weight_difference"] = float(np.max(np.abs(keras.ops.convert_to_numpy(kernel.value) - reference)))
print(f"model parallel: loss {loss:.6f}; {kernel.path} {tuple(kernel.shape)} laid out as {kernel.value.sharding.spec},"
      f" {shard.device} holds a {tuple(shard.data.shape)} block")
with open("scale_out_results.json", "w") as file:
    json.dump(results, file, indent=1)
