"""Hand-written PyTorch references (torch.nn and a plain training loop) for three chapter models.

Same architectures as maintainer.bench.models, with the same trainable parameter counts (the
orchestrator checks them against the Keras models'). Inputs are channels-first, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from maintainer.bench.models import sizes


def _modules():
    import torch
    from torch import nn

    class MnistDense(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(784, 512)
            self.out = nn.Linear(512, 10)

        def forward(self, x):
            return self.out(torch.relu(self.hidden(x)))  # logits; the loss applies the softmax

    class ScratchConvnet(nn.Module):
        def __init__(self, image: int):
            super().__init__()
            channels = [3, 32, 64, 128, 256, 256]
            self.convs = nn.ModuleList(nn.Conv2d(a, b, 3) for a, b in zip(channels, channels[1:]))
            side = image
            for _ in range(4):
                side = (side - 2) // 2
            side -= 2
            self.out = nn.Linear(256 * side * side, 1)

        def forward(self, x):
            x = x / 255.0
            for i, conv in enumerate(self.convs):
                x = torch.relu(conv(x))
                if i < 4:
                    x = torch.max_pool2d(x, 2)
            return self.out(torch.flatten(x, 1))  # a logit; the loss applies the sigmoid

    class Seq2SeqLSTM(nn.Module):
        def __init__(self, vocab: int, embed: int, latent: int):
            super().__init__()
            self.source_embedding = nn.Embedding(vocab, embed)
            self.target_embedding = nn.Embedding(vocab, embed)
            self.encoder = nn.LSTM(embed, latent, batch_first=True)
            self.decoder = nn.LSTM(embed, latent, batch_first=True)
            # torch's LSTM keeps two bias vectors per gate where Keras keeps one: freeze the second
            # at zero so both models train the same number of parameters.
            for lstm in (self.encoder, self.decoder):
                lstm.bias_hh_l0.requires_grad_(False)
                lstm.bias_hh_l0.data.zero_()
            self.out = nn.Linear(latent, vocab)

        def forward(self, source, target):
            _, (h, c) = self.encoder(self.source_embedding(source))
            y, _ = self.decoder(self.target_embedding(target), (h, c))
            return self.out(y)

    return MnistDense, ScratchConvnet, Seq2SeqLSTM


def build(name: str, quick: bool) -> tuple[Any, list[np.ndarray], np.ndarray, Any]:
    """(module, inputs, targets, loss) for a reference model, on the same synthetic shapes as Keras."""
    from torch import nn

    MnistDense, ScratchConvnet, Seq2SeqLSTM = _modules()
    s = sizes(quick)
    rng = np.random.default_rng(0)
    if name == "mnist_dense":
        x = rng.random((s["dense_batch"], 784), dtype=np.float32)
        return MnistDense(), [x], rng.integers(0, 10, s["dense_batch"]), nn.CrossEntropyLoss()
    if name == "scratch_convnet":
        x = rng.random((s["image_batch"], 3, s["image"], s["image"]), dtype=np.float32) * 255
        y = rng.integers(0, 2, (s["image_batch"], 1)).astype("float32")
        return ScratchConvnet(s["image"]), [x], y, nn.BCEWithLogitsLoss()
    if name == "seq2seq_lstm":
        tokens = lambda: rng.integers(1, s["vocab"], (s["seq_batch"], s["seq_len"]))  # noqa: E731
        loss = nn.CrossEntropyLoss()
        return (Seq2SeqLSTM(s["vocab"], s["embed"], s["latent"]), [tokens(), tokens()], tokens(),
                lambda logits, y: loss(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)))
    raise ValueError(f"No native PyTorch reference for {name!r}.")


def trainable_parameters(module: Any) -> int:
    """The number of trainable parameters of a torch module."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


NATIVE = ("mnist_dense", "scratch_convnet", "seq2seq_lstm")
