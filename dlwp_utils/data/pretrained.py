"""ImageNet weights for keras.applications models: fetched up front with one clear error, or none offline."""

from __future__ import annotations

from dlwp_utils.data.download import download_failed
from dlwp_utils.errors import DataError
from dlwp_utils.profile import Profile, use_profile

# The files keras.applications downloads for weights="imagenet", include_top=False (name, URL, MD5),
# copied from keras/src/applications so that fetching them here fills the same cache entry.
IMAGENET_NO_TOP = {
    "VGG16": (
        "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
        "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "6d6bbae143d832006294945121d1f1fc",
        "58 MB",
    ),
}


def imagenet_weights(model: str, profile: Profile | str | None = None) -> str | None:
    """The `weights=` argument for keras.applications.<model>(include_top=False), announced in one line.

    Book profile: "imagenet", after making sure the weights file is in Keras' cache (downloaded
    now if needed; an unreachable server is one clear DataError). Embedded profile: None (random
    weights), since nothing can be downloaded offline.
    """
    if model not in IMAGENET_NO_TOP:
        raise ValueError(f"No ImageNet weights known for {model!r}; known: {', '.join(IMAGENET_NO_TOP)}.")
    if not isinstance(profile, Profile):
        profile = use_profile(profile)
    fname, origin, md5, size = IMAGENET_NO_TOP[model]
    if profile.embedded:
        print(f"{model} weights: random (embedded profile: the ImageNet weights, {size}, cannot be downloaded "
              f'offline), so its "pretrained" features are random projections. PROFILE = "book" uses ImageNet.')
        return None
    import keras

    try:  # the same call keras.applications makes, so that it finds the file afterwards
        path = keras.utils.get_file(fname, origin, cache_subdir="models", file_hash=md5)
    except ValueError:  # downloaded, but the checksum does not match: the next call downloads it again
        raise DataError(
            f"The download of the ImageNet weights of {model} from {origin} is incomplete or corrupt (its MD5 "
            f"checksum does not match {md5}). Run this cell again to download it afresh."
        ) from None
    except Exception as err:  # get_file wraps every URL error in a bare Exception
        raise download_failed(f"the ImageNet weights of {model} ({size})", origin, err) from None
    print(f"{model} weights: ImageNet, from {path}.")
    return "imagenet"
