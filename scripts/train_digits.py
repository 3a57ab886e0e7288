"""Train the small digits CNN qmulgen ships, and write what `qmulgen dnn` and its tests read.

Writes (all small, all committed):
  data/digits_test.npz      x: uint8 [450, 1, 8, 8] (pixel values 0..16, as scikit-learn ships
                            them), y: int64 [450], x_calib: uint8 [256, 1, 8, 8] (training split)
  models/digits_cnn.onnx    Conv-BN-ReLU-MaxPool x2, Flatten, Gemm-ReLU-Gemm, Softmax (opset 13;
                            BatchNormalization kept as nodes so that qmulgen folds them)
  models/digits_cnn_ref.npz probs: float32 [450, 10], the model's outputs on x computed by
                            onnxruntime (the reference the Rust float path is checked against)

Data: scikit-learn's handwritten digits (1,797 8x8 images, BSD licence), split 75/25 with
train_test_split(random_state=0, stratify=y). Not part of `make test`: it needs PyTorch, which
lives in its own venv:

  python3 -m venv .torchvenv
  .torchvenv/bin/pip install torch scikit-learn onnx onnxruntime numpy
  .torchvenv/bin/python scripts/train_digits.py
"""
import pathlib

import numpy as np
import onnx
import onnxruntime as ort
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

ROOT = pathlib.Path(__file__).resolve().parent.parent
SEED = 0


class DigitsCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def main():
    torch.manual_seed(SEED)
    digits = load_digits()
    x = digits.images.astype(np.uint8)[:, None, :, :]
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, random_state=SEED, stratify=y)
    model = DigitsCnn()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    xt = torch.tensor(x_train, dtype=torch.float32)
    yt = torch.tensor(y_train)
    for epoch in range(60):
        model.train()
        perm = torch.randperm(len(xt))
        for i in range(0, len(xt), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        logits = model(torch.tensor(x_test, dtype=torch.float32))
    accuracy = float((logits.argmax(1).numpy() == y_test).mean())
    print(f"float test accuracy: {accuracy:.4f} ({len(y_test)} images)")

    exported = nn.Sequential(model, nn.Softmax(dim=1)).eval()
    path = ROOT / "models" / "digits_cnn.onnx"
    torch.onnx.export(
        exported, torch.zeros(1, 1, 8, 8), str(path), opset_version=13,
        input_names=["image"], output_names=["probs"],
        dynamic_axes={"image": {0: "batch"}, "probs": {0: "batch"}},
        training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False, dynamo=False)
    onnx.checker.check_model(onnx.load(str(path)))
    np.savez(ROOT / "data" / "digits_test.npz", x=x_test, y=y_test, x_calib=x_train[:256])
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    probs = session.run(None, {"image": x_test.astype(np.float32)})[0]
    np.savez(ROOT / "models" / "digits_cnn_ref.npz", probs=probs.astype(np.float32))
    agree = float((probs.argmax(1) == logits.argmax(1).numpy()).mean())
    print(f"onnxruntime agrees with PyTorch on {agree:.4f} of the test images")


if __name__ == "__main__":
    main()
