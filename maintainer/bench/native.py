"""Hand-written PyTorch references (torch.nn and a plain training loop) for every chapter model.

Each builder takes the same sizes, with the same defaults, as its Keras twin in
maintainer.bench.models, and builds the same architecture with the same number of trainable
parameters (maintainer.bench checks the counts on every run). Images are channels-first, as
PyTorch writes them; Keras uses its default, channels-last.

Where Keras and torch.nn count parameters differently, the torch side is made to match:
- torch's LSTM keeps two bias vectors per gate where Keras keeps one: the second is frozen at zero;
- Keras' BatchNormalization trains gamma and beta and keeps the moving statistics as
  non-trainable weights, as torch's BatchNorm2d does (affine weights, running buffers).

Each reference is a Reference: the module, one synthetic batch (NumPy, on the host, as Keras gets
it), the loss, and for text generation a `generate` function.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from dlwp_utils.data.tiny_gemma import RECIPE as TINY_GEMMA
from maintainer.bench.models import SCRATCH_FILTERS, XCEPTION_FILTERS

VGG16_BLOCKS = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))
VGG16_BGR_MEANS = (103.939, 116.779, 123.68)  # keras.applications.vgg16.preprocess_input ("caffe")


@dataclass
class Reference:
    """A torch module, one synthetic batch and its loss; for generation, the function to time."""

    module: Any
    inputs: list[np.ndarray]
    target: np.ndarray | None
    loss: Callable[[Any, Any], Any] | None
    generate: Callable[[Any, bool], Any] | None = None  # generate(device, compiled) -> a callable
    new_tokens: int = 0


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


def _freeze_second_lstm_biases(lstm: Any) -> None:
    """Keras' LSTM has one bias per gate, torch's two: freeze torch's second at zero."""
    for name, parameter in lstm.named_parameters():
        if name.startswith("bias_hh"):
            parameter.requires_grad_(False)
            parameter.data.zero_()


def _cross_entropy_over_tokens():
    from torch import nn

    loss = nn.CrossEntropyLoss()
    return lambda logits, y: loss(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def mnist_dense(batch: int = 128, units: int = 512) -> Reference:
    """Linear(784, units) + ReLU -> Linear(units, 10)."""
    import torch
    from torch import nn

    class MnistDense(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(784, units)
            self.out = nn.Linear(units, 10)

        def forward(self, x):
            return self.out(torch.relu(self.hidden(x)))  # logits; the loss applies the softmax

    x = _rng().random((batch, 784), dtype=np.float32)
    return Reference(MnistDense(), [x], _rng().integers(0, 10, batch), nn.CrossEntropyLoss())


def scratch_convnet(image_size: int = 64, conv_blocks: int = 4, batch: int = 16) -> Reference:
    """Rescale, then `conv_blocks` Conv2d(3x3) + ReLU, max pooling after all but the last; Linear(1)."""
    import torch
    from torch import nn

    filters = SCRATCH_FILTERS[:conv_blocks]

    class ScratchConvnet(nn.Module):
        def __init__(self):
            super().__init__()
            channels = (3, *filters)
            self.convs = nn.ModuleList(nn.Conv2d(a, b, 3) for a, b in zip(channels, channels[1:]))
            side = image_size
            for _ in filters[:-1]:
                side = (side - 2) // 2
            side -= 2
            self.out = nn.Linear(filters[-1] * side * side, 1)

        def forward(self, x):
            x = x / 255.0
            for i, conv in enumerate(self.convs):
                x = torch.relu(conv(x))
                if i < len(self.convs) - 1:
                    x = torch.max_pool2d(x, 2)
            return self.out(torch.flatten(x, 1))  # a logit; the loss applies the sigmoid

    x, y = _images(image_size, batch)
    return Reference(ScratchConvnet(), [x], y, nn.BCEWithLogitsLoss())


def _images(size: int, batch: int) -> tuple[np.ndarray, np.ndarray]:
    return (_rng().random((batch, 3, size, size), dtype=np.float32) * 255,
            _rng().integers(0, 2, (batch, 1)).astype("float32"))


def vgg16_frozen(image_size: int = 48, batch: int = 8, dense_units: int = 256) -> Reference:
    """VGG16's 13 convolutions (frozen), then Flatten, Linear(dense_units), Dropout(0.5), Linear(1)."""
    import torch
    from torch import nn

    class VGG16Frozen(nn.Module):
        def __init__(self):
            super().__init__()
            layers: list[nn.Module] = []
            channels = 3
            for block in VGG16_BLOCKS:
                for filters in block:
                    layers += [nn.Conv2d(channels, filters, 3, padding=1), nn.ReLU()]
                    channels = filters
                layers.append(nn.MaxPool2d(2))
            self.base = nn.Sequential(*layers)
            self.base.requires_grad_(False)  # frozen: only the head trains, as with base.trainable = False
            side = image_size // 2**len(VGG16_BLOCKS)
            self.head = nn.Sequential(nn.Flatten(), nn.Linear(512 * side * side, dense_units), nn.Dropout(0.5),
                                      nn.Linear(dense_units, 1))
            self.register_buffer("means", torch.tensor(VGG16_BGR_MEANS).reshape(1, 3, 1, 1))

        def forward(self, x):
            x = x.flip(1) - self.means  # RGB -> BGR, minus ImageNet's means (VGG16's preprocess_input)
            return self.head(self.base(x))  # a logit; the loss applies the sigmoid

    x, y = _images(image_size, batch)
    return Reference(VGG16Frozen(), [x], y, nn.BCEWithLogitsLoss())


def xception_compact(image_size: int = 64, batch: int = 16, classes: int = 100) -> Reference:
    """Conv2d(32, stride 2) + ReLU + max pooling, 3 blocks of 2 x (separable conv, BatchNorm, ReLU), GAP, Linear."""
    import torch
    from torch import nn

    def separable(channels: int, filters: int) -> nn.Module:
        # Keras' SeparableConv2D(use_bias=False): a depthwise 3x3 then a pointwise 1x1, no biases.
        return nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False),
                             nn.Conv2d(channels, filters, 1, bias=False))

    class CompactXception(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 32, 3, stride=2)
            blocks: list[nn.Module] = []
            channels = 32
            for filters in XCEPTION_FILTERS:
                for _ in range(2):
                    # Keras' BatchNormalization defaults: epsilon 1e-3, moving averages kept at 0.99.
                    blocks += [separable(channels, filters), nn.BatchNorm2d(filters, eps=1e-3, momentum=0.01),
                               nn.ReLU()]
                    channels = filters
                blocks.append(nn.MaxPool2d(3, stride=2, padding=1))  # = Keras' MaxPooling2D(3, 2, "same")
            self.blocks = nn.Sequential(*blocks)
            self.out = nn.Linear(channels, classes)

        def forward(self, x):
            x = torch.max_pool2d(torch.relu(self.stem(x / 255.0)), 2)
            x = self.blocks(x).mean(dim=(2, 3))  # global average pooling
            return self.out(x)  # logits; the loss applies the softmax

    x = _rng().random((batch, 3, image_size, image_size), dtype=np.float32) * 255
    return Reference(CompactXception(), [x], _rng().integers(0, classes, batch), nn.CrossEntropyLoss())


def seq2seq_lstm(seq_len: int = 20, source_vocab: int = 2000, target_vocab: int = 2000, embed: int = 128,
                 latent: int = 256, batch: int = 64, mask_zero: bool = True) -> Reference:
    """Embedding -> LSTM encoder; its (h, c) start the decoder LSTM over the target embedding; Linear.

    `mask_zero` is the Keras model's; the synthetic tokens are never 0 (padding), so the plain
    nn.LSTM computes what the masked Keras LSTM does.
    """
    from torch import nn

    class Seq2SeqLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.source_embedding = nn.Embedding(source_vocab, embed)
            self.target_embedding = nn.Embedding(target_vocab, embed)
            self.encoder = nn.LSTM(embed, latent, batch_first=True)
            self.decoder = nn.LSTM(embed, latent, batch_first=True)
            for lstm in (self.encoder, self.decoder):
                _freeze_second_lstm_biases(lstm)
            self.out = nn.Linear(latent, target_vocab)

        def forward(self, source, target):
            _, (h, c) = self.encoder(self.source_embedding(source))
            y, _ = self.decoder(self.target_embedding(target), (h, c))
            return self.out(y)

    rng = _rng()
    source = rng.integers(1, source_vocab, (batch, seq_len))
    target = rng.integers(1, target_vocab, (batch, seq_len))
    return Reference(Seq2SeqLSTM(), [source, target], rng.integers(1, target_vocab, (batch, seq_len)),
                     _cross_entropy_over_tokens())


def _rnn_data(steps: int, features: int, batch: int) -> tuple[np.ndarray, np.ndarray]:
    rng = _rng()
    return rng.random((batch, steps, features), dtype=np.float32), rng.random((batch, 1), dtype=np.float32)


def stacked_lstm(steps: int = 60, features: int = 64, units: int = 64, batch: int = 128) -> Reference:
    """nn.LSTM with two layers, then Linear(1) on the last step's output."""
    from torch import nn

    class StackedLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(features, units, num_layers=2, batch_first=True)
            _freeze_second_lstm_biases(self.lstm)
            self.out = nn.Linear(units, 1)

        def forward(self, x):
            y, _ = self.lstm(x)
            return self.out(y[:, -1])

    x, y = _rnn_data(steps, features, batch)
    return Reference(StackedLSTM(), [x], y, nn.MSELoss())


def rnn_cells(steps: int = 60, features: int = 64, units: int = 64, batch: int = 128) -> Reference:
    """A hand-written loop over the time steps, stepping two nn.LSTMCell one after the other; Linear(1)."""
    from torch import nn

    class RNNCells(nn.Module):
        def __init__(self):
            super().__init__()
            self.first = nn.LSTMCell(features, units)
            self.second = nn.LSTMCell(units, units)
            for cell in (self.first, self.second):
                _freeze_second_lstm_biases(cell)
            self.out = nn.Linear(units, 1)

        def forward(self, x):
            h1 = c1 = h2 = c2 = x.new_zeros(x.shape[0], units)
            for t in range(x.shape[1]):
                h1, c1 = self.first(x[:, t], (h1, c1))
                h2, c2 = self.second(h1, (h2, c2))
            return self.out(h2)

    x, y = _rnn_data(steps, features, batch)
    return Reference(RNNCells(), [x], y, nn.MSELoss())


def gemma3_decoder(vocabulary_size: int, num_layers: int, num_query_heads: int, num_key_value_heads: int,
                   hidden_dim: int, intermediate_dim: int, head_dim: int, use_post_ffw_norm: bool = False,
                   use_post_attention_norm: bool = False, use_sliding_window_attention: bool = False,
                   sliding_window_size: int = 1024, local_rope_scaling_factor: float = 1.0,
                   global_rope_scaling_factor: float = 1.0) -> Any:
    """keras_hub's text-only Gemma3Backbone, by hand: forward gives its logits, prefill / decode use a KV cache."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class RMSNorm(nn.Module):
        def __init__(self, dim: int):
            super().__init__()
            self.scale = nn.Parameter(torch.zeros(dim))  # Gemma scales by (1 + scale)

        def forward(self, x):
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * (1 + self.scale)

    def optional_norm(wanted: bool) -> nn.Module:
        return RMSNorm(hidden_dim) if wanted else nn.Identity()

    class Block(nn.Module):
        def __init__(self, index: int):
            super().__init__()
            # keras_hub's Gemma3Backbone: 5 local (sliding-window) layers, then 1 global, when asked.
            self.local = use_sliding_window_attention and index % 6 < 5
            # RoPE of wavelength 10k on local layers, 1M on global ones; "linear" scaling divides the positions.
            wavelength, scaling = (10_000.0, local_rope_scaling_factor) if self.local else (
                1_000_000.0, global_rope_scaling_factor)
            exponents = torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim
            self.register_buffer("inverse_frequencies", wavelength ** -exponents / scaling, persistent=False)
            self.pre_attention_norm, self.pre_ffw_norm = RMSNorm(hidden_dim), RMSNorm(hidden_dim)
            # Gemma 3's norms after attention and the feed-forward (where asked), and on each head's queries and keys.
            self.post_attention_norm = optional_norm(use_post_attention_norm)
            self.post_ffw_norm = optional_norm(use_post_ffw_norm)
            self.query_norm, self.key_norm = RMSNorm(head_dim), RMSNorm(head_dim)
            self.query = nn.Linear(hidden_dim, num_query_heads * head_dim, bias=False)
            self.key = nn.Linear(hidden_dim, num_key_value_heads * head_dim, bias=False)
            self.value = nn.Linear(hidden_dim, num_key_value_heads * head_dim, bias=False)
            self.attention_output = nn.Linear(num_query_heads * head_dim, hidden_dim, bias=False)
            # A GeGLU of intermediate_dim units (Gemma 1 and 2 halve it); no biases anywhere, no soft-capping.
            self.gate = nn.Linear(hidden_dim, intermediate_dim, bias=False)
            self.up = nn.Linear(hidden_dim, intermediate_dim, bias=False)
            self.down = nn.Linear(intermediate_dim, hidden_dim, bias=False)

        def rope(self, x, positions):
            """x: (batch, time, heads, head_dim) rotated by half; positions: (time,)."""
            angles = positions[:, None].float() * self.inverse_frequencies
            angles = torch.cat([angles, angles], dim=-1)[None, :, None, :]
            first, second = x.chunk(2, dim=-1)
            return x * angles.cos() + torch.cat([-second, first], dim=-1) * angles.sin()

        def windowed(self, mask, positions):
            """The mask, restricted on a local layer to the last sliding_window_size keys of each query."""
            if not self.local:
                return mask
            keys = torch.arange(mask.shape[-1], device=mask.device)
            return mask & (positions[:, None] - keys[None, :] < sliding_window_size)

        def forward(self, x, positions, mask, cache=None):
            """mask: (batch, 1, queries, keys), True where a query may attend; cache: (keys, values)."""
            batch, time, _ = x.shape
            normed = self.pre_attention_norm(x)
            q = self.query_norm(self.query(normed).view(batch, time, num_query_heads, head_dim))
            k = self.key_norm(self.key(normed).view(batch, time, num_key_value_heads, head_dim))
            q, k = self.rope(q, positions), self.rope(k, positions)
            v = self.value(normed).view(batch, time, num_key_value_heads, head_dim)
            if cache is not None:  # write this step's keys and values, attend over the whole cache
                keys, values = cache
                keys.index_copy_(1, positions, k)
                values.index_copy_(1, positions, v)
                k, v = keys, values
            attention = F.scaled_dot_product_attention(
                q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), attn_mask=self.windowed(mask, positions),
                scale=head_dim ** -0.5, enable_gqa=True)  # query_head_dim_normalize: 1 / sqrt(head_dim)
            attention = self.attention_output(attention.transpose(1, 2).reshape(batch, time, -1))
            x = x + self.post_attention_norm(attention)
            normed = self.pre_ffw_norm(x)
            return x + self.post_ffw_norm(self.down(F.gelu(self.gate(normed), approximate="tanh") * self.up(normed)))

    class Gemma3Decoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocabulary_size, hidden_dim)
            self.blocks = nn.ModuleList(Block(i) for i in range(num_layers))
            self.final_norm = RMSNorm(hidden_dim)

        def _run(self, token_ids, positions, mask, caches=None):
            x = self.embedding(token_ids) * math.sqrt(hidden_dim)
            for i, block in enumerate(self.blocks):
                x = block(x, positions, mask, None if caches is None else caches[i])
            return self.final_norm(x) @ self.embedding.weight.T  # tied: the embedding, reversed

        def forward(self, token_ids, padding_mask):
            time = token_ids.shape[1]
            causal = torch.ones(time, time, dtype=torch.bool, device=token_ids.device).tril()
            mask = (causal[None] & padding_mask.bool()[:, None, :])[:, None]
            return self._run(token_ids, torch.arange(time, device=token_ids.device), mask)

        def new_cache(self, batch: int, length: int, device: Any) -> list[tuple[Any, Any]]:
            shape = (batch, length, num_key_value_heads, head_dim)
            return [(torch.zeros(shape, device=device), torch.zeros(shape, device=device)) for _ in self.blocks]

        def prefill(self, token_ids, caches):
            """Run the prompt through, filling the cache; the logits of its last token."""
            time, length = token_ids.shape[1], caches[0][0].shape[1]
            keys = torch.arange(length, device=token_ids.device)
            mask = (keys[None, :] <= torch.arange(time, device=token_ids.device)[:, None])[None, None]
            return self._run(token_ids, torch.arange(time, device=token_ids.device), mask, caches)[:, -1]

        def decode(self, token, position, caches):
            """One new token (batch, 1) at `position` (a 1-element tensor): the next token's logits."""
            keys = torch.arange(caches[0][0].shape[1], device=token.device)
            mask = (keys <= position)[None, None, None, :]
            return self._run(token, position, mask, caches)[:, -1]

    return Gemma3Decoder()


def _tiny_gemma3(vocabulary_size: int) -> Any:
    """The decoder of dlwp_utils.data.tiny_gemma's recipe (image_size sizes only a vision encoder: it has none)."""
    gemma3 = {k: v for k, v in TINY_GEMMA["gemma3"].items() if k != "image_size"}
    return gemma3_decoder(vocabulary_size=vocabulary_size, **TINY_GEMMA["backbone"], **gemma3)


def gemma_tiny(seq_len: int = 64, batch: int = 4, vocabulary_size: int = TINY_GEMMA["vocabulary_size"]) -> Reference:
    """A training step of the tiny Gemma 3's decoder (next-token cross-entropy on logits)."""
    ids = _rng().integers(1, vocabulary_size, (batch, seq_len))
    return Reference(_tiny_gemma3(vocabulary_size), [ids, np.ones_like(ids)], np.roll(ids, -1, axis=1),
                     _cross_entropy_over_tokens())


def gemma_tiny_generate(prompt: int = 16, length: int = 64, batch: int = 4,
                        vocabulary_size: int = TINY_GEMMA["vocabulary_size"]) -> Reference:
    """Greedy generation with a KV cache: the prompt in one pass, then one token per step up to `length`."""
    import torch

    decoder = _tiny_gemma3(vocabulary_size)
    ids = _rng().integers(1, vocabulary_size, (batch, prompt))

    def generate(device: Any, compiled: bool) -> Callable[[], Any]:
        decode = torch.compile(decoder.decode) if compiled else decoder.decode

        @torch.no_grad()
        def run():
            caches = decoder.new_cache(batch, length, device)
            tokens = torch.from_numpy(ids).to(device)
            next_token = decoder.prefill(tokens, caches).argmax(-1, keepdim=True)
            generated = [next_token]
            for position in range(prompt, length - 1):
                next_token = decode(next_token, torch.tensor([position], device=device), caches).argmax(-1, keepdim=True)
                generated.append(next_token)
            return torch.cat(generated, dim=1).cpu().numpy()

        return run

    return Reference(decoder, [ids], None, None, generate=generate, new_tokens=batch * (length - prompt))


def vgg16_frozen_32(image_size: int = 32, batch: int = 16, dense_units: int = 256) -> Reference:
    """vgg16_frozen at the embedded profile's image size and batch."""
    return vgg16_frozen(image_size, batch, dense_units)


BUILDERS: dict[str, Callable[..., Reference]] = {
    f.__name__: f for f in (mnist_dense, scratch_convnet, vgg16_frozen, vgg16_frozen_32, xception_compact, seq2seq_lstm,
                            stacked_lstm, rnn_cells, gemma_tiny, gemma_tiny_generate)}


def build(name: str, **sizes: Any) -> Reference:
    """The reference for a bench model at the given sizes (the Keras builder's, by name)."""
    if name not in BUILDERS:
        raise ValueError(f"No native PyTorch reference for {name!r}; there are: {', '.join(BUILDERS)}.")
    return BUILDERS[name](**sizes)


def trainable_parameters(module: Any) -> int:
    """The number of trainable parameters of a torch module."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
