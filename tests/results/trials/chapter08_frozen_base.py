"""Why does the frozen VGG16 base with augmentation score below fast feature extraction (embedded profile)?"""
import os, sys, time, pathlib
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import numpy as np
import keras
from keras import layers
import dlwp_utils as dlwp
from keras.utils import image_dataset_from_directory

work = pathlib.Path(sys.argv[1])
variant = sys.argv[2]
profile = dlwp.use_profile("embedded", settings={})
base = work / "dogs_vs_cats_small"
def ds(name, **kw):
    return image_dataset_from_directory(base / name, image_size=(32, 32), batch_size=16, **kw)
dlwp.set_seed(42)
train, val, test = ds("train"), ds("validation"), ds("test")
flip_only = "flip" in variant
aug_layers = [layers.RandomFlip("horizontal")] + ([] if flip_only else [layers.RandomRotation(0.1), layers.RandomZoom(0.2)])
def augment(images, targets):
    for layer in aug_layers:
        images = layer(images)
    return images, targets
aug_train = train.map(augment) if "noaug" not in variant else train
weights = dlwp.data.imagenet_weights("VGG16", profile)
conv_base = keras.applications.vgg16.VGG16(weights=weights, include_top=False)
conv_base.trainable = False
epochs = int(variant.split("e")[-1]) if "_e" in variant else 5
lr = 1e-4 if "lr4" in variant else 1e-3
inputs = keras.Input(shape=(32, 32, 3))
x = keras.applications.vgg16.preprocess_input(inputs)
x = conv_base(x)
x = layers.Flatten()(x)
x = layers.Dense(256)(x)
x = layers.Dropout(0.5)(x)
outputs = layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(inputs, outputs)
model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.RMSprop(lr), metrics=["accuracy"])
ck = f"/tmp/frozen_{variant}.keras"
t = time.time()
h = model.fit(aug_train, epochs=epochs, validation_data=val, verbose=0,
              callbacks=[keras.callbacks.ModelCheckpoint(ck, save_best_only=True, monitor="val_loss")])
best = keras.models.load_model(ck)
acc = best.evaluate(test, verbose=0)[1]
last = model.evaluate(test, verbose=0)[1]
vl = [round(v, 3) for v in h.history["val_loss"]]
print(f"RESULT {variant}: best-ckpt test {acc:.3f} last-epoch test {last:.3f} val_loss {vl} "
      f"train_acc {[round(v,3) for v in h.history['accuracy']]} {time.time()-t:.0f}s", flush=True)
