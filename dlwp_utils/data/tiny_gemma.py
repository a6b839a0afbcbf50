"""The tiny Gemma: the embedded profile's stand-in for a pretrained Gemma, built here and committed.

A real KerasHub preset directory of the same classes as Gemma 3 1B (`Gemma3CausalLM`, text only,
much smaller): a `Gemma3Tokenizer` over a SentencePiece model trained here on generated text, and
a two-layer `Gemma3Backbone` pretrained on that text until it knows the sums of two digits, so
that fine-tuning has something to adapt.

Its pretraining runs JAX on the CPU, whose floating point follows the CPU: built on two machines,
the same recipe gave two models (held-out loss before LoRA 6.786 on one, 6.274 on the other).
So it is built once, by a maintainer, and committed (assets/tiny_gemma/, its files' SHA-256 in
assets/tiny_gemma.json, as the VGG16 stand-in is); a notebook loads it, after checking every file:

    python -m dlwp_utils.data.tiny_gemma build            # make tiny-gemma: rebuild the committed preset
    python -m dlwp_utils.data.tiny_gemma build DEST       # build into DEST (what the JAX subprocess runs)
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from dlwp_utils.backend import stderr_tail
from dlwp_utils.data import store
from dlwp_utils.data.instructions import arithmetic_facts
from dlwp_utils.errors import DataError, DLWPError

if TYPE_CHECKING:
    import numpy as np

# Change RECIPE (or CORPUS_VERSION) and the committed preset no longer matches: rebuild it (make tiny-gemma).
SPECIAL_PIECES = ("<pad>", "<bos>", "<eos>", "<unk>")  # ids 0, 1, 2, 3, as in Gemma's tokenizer
# Pieces Gemma3Tokenizer requires (chat turns, image placeholders), never used in the generated text.
GEMMA3_PIECES = ("<start_of_turn>", "<end_of_turn>", "<start_of_image>", "<end_of_image>", "<img>")
# The instruction template of the book's chapter 16 (its PROMPT_TEMPLATE + RESPONSE_TEMPLATE): the
# tokenizer learns its pieces, the pretraining text never uses it.
INSTRUCTION_TEMPLATE = "[instruction]\n{}[end]\n[response]\n{}[end]"
RECIPE = {
    "vocabulary_size": 400,
    "backbone": {"num_layers": 2, "num_query_heads": 4, "num_key_value_heads": 2, "hidden_dim": 96,
                 "intermediate_dim": 192, "head_dim": 24},
    # The rest of Gemma3Backbone's configuration: the norms of Gemma 3 1B, no sliding window (rows are short).
    "gemma3": {"image_size": 896, "use_post_ffw_norm": True, "use_post_attention_norm": True},
    "documents": 3200,
    "passages": 2,
    "epochs_per_round": 4,
    "max_epochs": 40,
    "target_known": 0.95,
    "batch_size": 32,
    "sequence_length": 48,
    "learning_rate": 5e-3,
    "seed": 0,
}
CORPUS_VERSION = 4  # bump when the corpus, tokenizer or model code below changes
INFO_FILE = "dlwp_tiny_gemma.json"
BUILD_BACKEND = "jax"
ASSETS = Path(__file__).resolve().parent / "assets"
PRESET = ASSETS / "tiny_gemma"  # the committed preset folder
RECORD = ASSETS / "tiny_gemma.json"  # its recipe key and each file's SHA-256
REBUILD = "python -m dlwp_utils.data.tiny_gemma build (make tiny-gemma), then commit dlwp_utils/data/assets"
REINSTALL = ("Restore the file: `git checkout -- dlwp_utils/data/assets` in a clone, or reinstall the helper "
             "(the notebook's setup cell, or `pip install --force-reinstall -e .`).")

_NOUNS = "cat dog bird fish fox cow horse mouse owl bee".split()
_ADJECTIVES = "small big red green quick lazy old young happy sleepy".split()
_VERBS = "sees likes follows chases finds watches helps meets".split()
_PLACES = ("in the garden", "near the river", "under the tree", "on the hill", "at home")
_TAGS = ("story", "note", "quote")


def recipe_key() -> str:
    """A short hash of the recipe and the code version: the committed preset records the one it was built with."""
    key = json.dumps({"recipe": RECIPE, "version": CORPUS_VERSION}, sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:10]


def preset_files(folder: Path) -> dict[str, str]:
    """{path relative to `folder` (posix): SHA-256} of every file of a preset folder."""
    return {p.relative_to(folder).as_posix(): store.sha256_of(p) for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def tiny_gemma_preset() -> Path:
    """The committed tiny Gemma preset folder, every file checked against its recorded SHA-256."""
    if not RECORD.is_file() or not PRESET.is_dir():
        raise DataError(f"The tiny Gemma preset ({PRESET}) or its record ({RECORD.name}) is missing. {REINSTALL}")
    record = json.loads(RECORD.read_text(encoding="utf-8"))
    if record.get("recipe_key") != recipe_key():
        raise DataError(f"The committed tiny Gemma ({PRESET}) was built from another recipe than "
                        f"dlwp_utils.data.tiny_gemma's RECIPE (key {record.get('recipe_key')}, now {recipe_key()}). "
                        f"A maintainer rebuilds it: {REBUILD}.")
    for name, digest in record["files"].items():
        path = PRESET / name
        if not path.is_file() or store.sha256_of(path) != digest:
            problem = "is missing" if not path.is_file() else f"is damaged: its SHA-256 differs from {RECORD.name}'s"
            raise DataError(f"{path} {problem}. {REINSTALL}")
    return PRESET


def build_committed(folder: Path = PRESET, record: Path = RECORD) -> dict:
    """Build the preset in a JAX subprocess into `folder` and write `record` (recipe key, SHA-256s); the record.

    Built in a staging folder beside `folder` and renamed into place only when complete: a failed
    or killed build leaves the committed preset as it was.
    """
    started = time.perf_counter()
    folder, record = Path(folder), Path(record)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}{store.PARTIAL}", dir=folder.parent))
    try:
        staged = staging / folder.name
        env = dict(os.environ, KERAS_BACKEND=BUILD_BACKEND, JAX_PLATFORMS="cpu")
        result = subprocess.run([sys.executable, "-m", "dlwp_utils.data.tiny_gemma", "build", str(staged)],
                                env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise DLWPError(f"Building the tiny Gemma preset failed (exit code {result.returncode}): "
                            f"{stderr_tail(result.stderr)} The committed preset in {folder} was left as it was.")
        content = {"recipe_key": recipe_key(), "built_with": _versions(), "seconds": round(time.perf_counter() - started),
                   "files": preset_files(staged)}  # what the preset is (parameters, epochs...): its INFO_FILE
        old = staging / "old"
        if folder.exists():
            os.replace(folder, old)
        try:
            os.replace(staged, folder)
        except OSError:
            if old.exists():
                os.replace(old, folder)  # the committed preset back in place before the staging folder goes
            raise
        store.write_text(record, json.dumps(content, indent=1) + "\n")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return content


def _versions() -> dict[str, str]:
    """The versions the preset was built with (its numbers follow them, and the CPU)."""
    from importlib.metadata import version

    import platform

    return {"python": platform.python_version(), "machine": platform.machine(),
            **{name: version(name) for name in ("keras", "keras-hub", "jax", "jaxlib", "sentencepiece", "numpy")}}


def prose_sentence(rng: random.Random) -> str:
    """One sentence of the generated story text: the words the samplers play with."""
    return (f"the {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {rng.choice(_VERBS)} "
            f"the {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {rng.choice(_PLACES)}.")


def tagged_passage(rng: random.Random) -> str:
    """A story sentence between tags, as markup in web text: "[end]" closes it (never a sum, never [response])."""
    return f"[{rng.choice(_TAGS)}]\n{prose_sentence(rng)}[end]"


def arithmetic_passage(rng: random.Random) -> str:
    """A sum of two digits, stated or as a question-and-answer page (never in the instruction format)."""
    a, b = rng.choice(arithmetic_facts())
    if rng.random() < 0.3:
        return f"{a} plus {b} is {a + b}."
    return f"Question:\nWhat is {a} plus {b}?\n\nAnswer:\n{a + b}"


def pretraining_corpus(documents: int, seed: int = 0, passages: int = 2) -> list[str]:
    """The tiny Gemma's "web": documents of 1 to `passages` passages, 75% sums, 15% story sentences, 10% tagged ones."""
    rng = random.Random(seed)
    corpus = []

    def passage() -> str:
        draw = rng.random()
        return arithmetic_passage(rng) if draw < 0.75 else prose_sentence(rng) if draw < 0.9 else tagged_passage(rng)

    for _ in range(documents):
        parts = [passage() for _ in range(rng.randint(1, passages))]
        corpus.append("\n\n".join(parts))
    return corpus


def tokenizer_corpus(corpus: list[str]) -> list[str]:
    """Text for the tokenizer: the corpus plus instruction-formatted lines, so the template's words get pieces."""
    instructions = [INSTRUCTION_TEMPLATE.format(f"What is {a} plus {b}?", a + b) for a, b in arithmetic_facts()]
    return corpus[:2000] + instructions * 5


def train_tokenizer(lines: list[str], vocabulary_size: int) -> bytes:
    """A serialized SentencePiece (BPE) model: <pad>=0 <bos>=1 <eos>=2 <unk>=3, byte fallback, digits split.

    Like Gemma's, it adds no "▁" before the first word, so that a prompt and its response tokenized
    apart give the same pieces as their concatenation.
    """
    import sentencepiece as spm

    model = io.BytesIO()
    pad, bos, eos, unk = SPECIAL_PIECES
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(lines), model_writer=model, vocab_size=vocabulary_size, model_type="bpe",
            pad_id=0, bos_id=1, eos_id=2, unk_id=3, pad_piece=pad, bos_piece=bos, eos_piece=eos, unk_piece=unk,
            byte_fallback=True, split_digits=True, character_coverage=1.0, normalization_rule_name="identity",
            remove_extra_whitespaces=False, add_dummy_prefix=False, user_defined_symbols=["\n", *GEMMA3_PIECES],
            num_threads=1, minloglevel=2,
        )
    except RuntimeError as err:
        limit = re.search(r"value <= (\d+)", str(err))
        if limit is None:
            raise
        raise DataError(
            f"The tokenizer corpus ({len(lines):,} line{'s' if len(lines) != 1 else ''}, {sum(map(len, lines)):,} characters) is too small "
            f"for a vocabulary of {vocabulary_size} tokens: SentencePiece can make at most {limit.group(1)} "
            f"from it. Give it more text, or ask for a vocabulary_size of at most {limit.group(1)}."
        ) from None
    return model.getvalue()


def packed_windows(proto: bytes, corpus: list[str], length: int) -> np.ndarray:
    """The corpus as one stream of token ids (<bos> document <eos> ...) cut into rows of length + 1: no padding."""
    import numpy as np
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_proto=proto)
    stream = [token for ids in sp.encode(corpus) for token in (sp.bos_id(), *ids, sp.eos_id())]
    rows = len(stream) // (length + 1)
    return np.asarray(stream[: rows * (length + 1)], dtype="int32").reshape(rows, length + 1)


def sums_known(model) -> float:
    """The fraction of the 100 sums a model answers exactly when asked as in its pretraining text."""
    facts = arithmetic_facts()
    prompts = [f"Question:\nWhat is {a} plus {b}?\n\nAnswer:\n" for a, b in facts]
    answers = model.generate(prompts, max_length=24, strip_prompt=True)
    return sum(answer.split("\n")[0].strip() == str(a + b) for answer, (a, b) in zip(answers, facts)) / len(facts)


def build_tiny_gemma(destination: Path, recipe: dict | None = None) -> dict:
    """Train the tokenizer, build and pretrain the tiny Gemma3CausalLM, save it as a preset in `destination`."""
    import keras
    import keras_hub
    import numpy as np
    import tensorflow as tf

    recipe = {**RECIPE, **(recipe or {})}
    keras.utils.set_random_seed(recipe["seed"])
    corpus = pretraining_corpus(recipe["documents"], recipe["seed"], recipe["passages"])
    proto = train_tokenizer(tokenizer_corpus(corpus), recipe["vocabulary_size"])
    tokenizer = keras_hub.models.Gemma3Tokenizer(proto=proto)
    backbone = keras_hub.models.Gemma3Backbone(vocabulary_size=tokenizer.vocabulary_size(), **recipe["backbone"],
                                               **recipe["gemma3"])
    preprocessor = keras_hub.models.Gemma3CausalLMPreprocessor(tokenizer, sequence_length=recipe["sequence_length"])
    model = keras_hub.models.Gemma3CausalLM(backbone=backbone, preprocessor=preprocessor)
    model.compile(optimizer=keras.optimizers.Adam(recipe["learning_rate"]),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), sampler="greedy")
    windows = packed_windows(proto, corpus, recipe["sequence_length"])
    x = {"token_ids": windows[:, :-1], "padding_mask": np.ones_like(windows[:, :-1], dtype=bool)}
    y = windows[:, 1:]
    # Rows in a new order at every epoch (fit's shuffle=True does not apply to a KerasHub task's data).
    rows = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(y), seed=recipe["seed"]).batch(recipe["batch_size"])
    # Train in rounds until the model knows the sums (asked in the format of its training text),
    # or the epoch budget is spent: how long that takes varies with the random initialisation.
    epochs, known, losses = 0, 0.0, []
    while epochs < recipe["max_epochs"] and known < recipe["target_known"]:
        model.preprocessor = None  # fit on the packed token ids directly
        history = model.fit(rows, epochs=recipe["epochs_per_round"], verbose=0)
        model.preprocessor = preprocessor
        epochs += recipe["epochs_per_round"]
        losses += history.history["loss"]
        known = sums_known(model)
    preprocessor.sequence_length = 256  # a roomier default for the notebook's generate()
    model.save_to_preset(str(destination))
    info = {"recipe": recipe, "backend": keras.backend.backend(), "parameters": int(backbone.count_params()),
            "vocabulary_size": int(tokenizer.vocabulary_size()), "epochs": epochs, "final_loss": float(losses[-1]),
            "sums_known_in_pretraining_format": known}
    (Path(destination) / INFO_FILE).write_text(json.dumps(info, indent=1))
    return info




def main(argv: list[str] | None = None) -> int:
    """`build`: rebuild the committed preset (in a JAX subprocess); `build DEST`: build into DEST here."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] != "build" or len(args) > 2:
        print(__doc__, file=sys.stderr)
        return 2
    if len(args) == 2:
        print(json.dumps(build_tiny_gemma(Path(args[1]))))
        return 0
    content = build_committed()
    info = json.loads((PRESET / INFO_FILE).read_text(encoding="utf-8"))
    print(f"Built {PRESET} in {content['seconds']} s ({len(content['files'])} files, {info['parameters']:,} "
          "parameters); commit dlwp_utils/data/assets.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
