"""Gemma presets for KerasHub: a real one from Kaggle (book profile), or the tiny Gemma built offline (embedded).

Either way the notebook gets a preset it passes to the same `keras_hub.models.CausalLM.from_preset`
call. The tiny Gemma's recipe and build are in dlwp_utils.data.tiny_gemma.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

from dlwp_utils.data import mirror as mirrors
from dlwp_utils.data.store import cache_dir
from dlwp_utils.data.tiny_gemma import INFO_FILE, tiny_gemma_preset
from dlwp_utils.errors import DataError
from dlwp_utils.kaggle import kaggle_download
from dlwp_utils.profile import Profile, use_profile

DEFAULT_PRESET = "gemma3_1b"  # its instruction-tuned sibling: "gemma3_instruct_1b"
SUGGESTED_PRESETS = ("gemma3_1b", "gemma3_instruct_1b", "gemma3_270m", "gemma3_4b_text", "gemma2_2b_en")
GEMMA_LICENCE = "the Gemma licence (Gemma Terms of Use)"
BYTES_PER_STORED_PARAMETER = 2  # at least: bfloat16 (a float32 preset takes twice as much)

def gemma_preset(profile: Profile | str | None = None, preset: str | None = None) -> str:
    """The preset to pass to `from_preset`: the real one (book), else the tiny one (embedded).

    Book profile: `preset` (default gemma3_1b) is a KerasHub preset name or a kaggle:// handle,
    downloaded with kagglehub (Kaggle credentials and the accepted Gemma licence needed, each
    failure explained), or a local preset directory, or an hf:// handle left to KerasHub. Embedded
    profile: the tiny Gemma, built on first use. One printed line says which.
    """
    if not isinstance(profile, Profile):
        profile = use_profile(profile)
    if profile.embedded:
        path = tiny_gemma_preset()
        info = json.loads((path / INFO_FILE).read_text())
        print(f"Gemma: embedded tiny Gemma ({info['parameters']:,} parameters, {info['vocabulary_size']} "
              f"SentencePiece tokens, pretrained on generated text) from {path}. "
              f'PROFILE = "book" loads {DEFAULT_PRESET} from Kaggle.')
        return str(path)
    resolved = real_preset(preset or DEFAULT_PRESET)
    print(f"Gemma: the preset {preset or DEFAULT_PRESET} from {resolved}.")
    return resolved


def real_preset(preset: str) -> str:
    """A local directory or hf:// handle as is; a KerasHub name or kaggle:// handle downloaded via kagglehub
    (or copied from $DLWP_MIRROR when it is set)."""
    local = Path(preset).expanduser()
    if local.is_dir():
        if not (local / "config.json").is_file():
            raise DataError(f"{local} is not a KerasHub preset directory: it has no config.json. Point PRESET at "
                            "a folder written by `save_to_preset`, or at a preset name such as "
                            f'"{DEFAULT_PRESET}".')
        return str(local)
    if preset.startswith(("hf://", "gs://", "modelscope://")):
        return preset  # KerasHub downloads these itself
    handle = kaggle_handle(preset)
    source = mirrors.active_mirror()
    if source is not None:
        relative = mirrors.model_relative(mirrors.model_version(source, handle))
        return str(mirrors.fetch_folder_into_cache(source, relative, cache_dir("mirror") / relative,
                                                   f"the Gemma preset {preset}"))
    owner, model = handle.split("/")[:2]
    import kagglehub

    path = kaggle_download(lambda: kagglehub.model_download(handle), what=f"the Gemma preset {preset}",
                           page=f"https://www.kaggle.com/models/{owner}/{model}", consent=GEMMA_LICENCE,
                           size=preset_bytes(preset))
    return str(path)


def preset_bytes(preset: str) -> int | None:
    """The least disk space a KerasHub preset's download takes (its parameters in bfloat16), if KerasHub knows it."""
    import keras_hub

    known = keras_hub.models.CausalLM.presets.get(preset)
    parameters = (known or {}).get("metadata", {}).get("params")
    return int(parameters) * BYTES_PER_STORED_PARAMETER if parameters else None


def kaggle_handle(preset: str) -> str:
    """The Kaggle Models handle (owner/model/framework/variation[/version]) of a preset name or kaggle:// URL."""
    if preset.startswith("kaggle://"):
        handle = preset.removeprefix("kaggle://")
    else:
        import keras_hub

        known = keras_hub.models.CausalLM.presets
        if preset not in known:
            close = difflib.get_close_matches(preset, list(known), n=1, cutoff=0.6)
            guess = f" Did you mean {close[0]!r}?" if close else ""
            examples = ", ".join(name for name in SUGGESTED_PRESETS if name in known)
            raise DataError(f"{preset!r} is not a KerasHub preset name, a kaggle:// handle or a local preset "
                            f"folder.{guess} Gemma presets include {examples}; "
                            "print(keras_hub.models.CausalLM.presets.keys()) lists them all.")
        handle = known[preset]["kaggle_handle"].removeprefix("kaggle://")
    if len(handle.split("/")) not in (4, 5):
        raise DataError(f"{preset!r} is not a Kaggle model handle: it must look like "
                        "kaggle://keras/gemma3/keras/gemma3_1b (optionally /VERSION).")
    return handle
