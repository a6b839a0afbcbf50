"""ImageNet weights for keras.applications models: fetched up front into the cache with one clear error, or,
offline, a stand-in pretrained by the project (dlwp_utils.data.vgg16_standin)."""

from __future__ import annotations

from dlwp_utils.data.download import fetch_file
from dlwp_utils.profile import Profile, use_profile

# The files keras.applications downloads for weights="imagenet", include_top=False (name, URL, MD5,
# size), copied from keras/src/applications: fetched here into the same place in the cache.
IMAGENET_NO_TOP = {
    "VGG16": (
        "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
        "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "6d6bbae143d832006294945121d1f1fc",
        58_000_000,  # bytes, at least
    ),
}


def imagenet_weights(model: str, profile: Profile | str | None = None) -> str:
    """The `weights=` argument for keras.applications.<model>(include_top=False), announced in one line.

    Book profile: the path of the ImageNet weights file (what `weights="imagenet"` downloads),
    fetched now into the cache ($DLWP_CACHE_DIR/models, else Keras' ~/.keras/models) if needed,
    with one clear DataError if that fails. Embedded profile: the path of the stand-in the project
    pretrained on a generated source task (the same architecture, so the same code loads it).
    """
    if model not in IMAGENET_NO_TOP:
        raise ValueError(f"No ImageNet weights known for {model!r}; known: {', '.join(IMAGENET_NO_TOP)}.")
    if not isinstance(profile, Profile):
        profile = use_profile(profile)
    fname, origin, md5, size = IMAGENET_NO_TOP[model]
    if profile.embedded:
        from dlwp_utils.data import vgg16_standin

        path, info = vgg16_standin.standin_weights(), vgg16_standin.info()
        print(f"{model} weights: a stand-in for ImageNet (embedded profile), pretrained here on {info['source_task']}; "
              f"accuracy on held-out source pictures {info['source_accuracy']:.2f} (chance {info['chance']:.2f}). "
              'PROFILE = "book" uses the ImageNet weights.')
        return str(path)
    path = fetch_file(fname, origin, file_hash=md5, size=size, subdir="models",
                      what=f"the ImageNet weights of {model} ({size / 1e6:.0f} MB)")
    print(f"{model} weights: ImageNet, from {path}.")
    return str(path)
