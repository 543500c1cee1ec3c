#!/usr/bin/python3
"""Fixtures for the end-to-end recurrent autodiff test (test/autodiff/recurrent-models.test.ts).

Two tiny seeded torch models, shaped like the demo's language models and exported by torch 1.13's
TorchScript exporter exactly as it comes (Gather for nn.Embedding, Transpose around the ONNX LSTM /
GRU, Unsqueeze / Squeeze, dynamic batch and sequence axes):

- captioner-lstm: CNN → global mean → Linear → tanh → (h0, c0) of an nn.LSTM (batch_first) over
  embedded tokens → Linear → logits [N, T, V];
- captioner-gru2: the same with a two-layer nn.GRU (two ONNX GRU nodes, linear_before_reset = 1),
  both layers' initial states from the image; captioner-bigru2: bidirectional (time-major tensors
  reshaped between the layers);
- vqa-gru: CNN → global mean → Linear; question tokens → nn.Embedding → bidirectional nn.GRU, last
  hidden states → elementwise product with the image vector → Linear → answer logits [N, A].

References are float64 torch autograd on the same weights: d logit / d image and d logit / d the last
conv ReLU (the Grad-CAM layer), for one seed row per image, and for one image with three seed rows
(explaining three words of a caption in one run, CompileOptions.repeatRows).

    /usr/bin/python3 conformance/recurrent_models.py
"""

import json
import os

import numpy as np
import onnx
import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "autodiff", "fixtures")
V, A, E, H, T, Q, S = 9, 4, 5, 6, 5, 4, 12


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 6, 3, padding=1)

    def forward(self, image):
        f = torch.relu(self.conv2(torch.max_pool2d(torch.relu(self.conv1(image)), 2)))
        self.layer = f
        if f.requires_grad:
            f.retain_grad()
        return f.mean((2, 3))


class Captioner(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = Encoder()
        self.init = nn.Linear(6, 2 * H)
        self.emb = nn.Embedding(V, E)
        self.rnn = nn.LSTM(E, H, batch_first=True)
        self.out = nn.Linear(H, V)

    def forward(self, image, tokens):
        hc = torch.tanh(self.init(self.enc(image)))
        h0, c0 = hc[:, :H].unsqueeze(0).contiguous(), hc[:, H:].unsqueeze(0).contiguous()
        y, _ = self.rnn(self.emb(tokens), (h0, c0))
        return self.out(y)


class GruCaptioner(nn.Module):
    """Stacked GRU layers (torch exports one ONNX GRU per layer), every initial state from the image;
    bidirectional, the exporter puts a Transpose and a Reshape [0, 0, -1] between the layers."""

    def __init__(self, bidirectional=False):
        super().__init__()
        self.states = 4 if bidirectional else 2
        self.enc = Encoder()
        self.init = nn.Linear(6, self.states * H)
        self.emb = nn.Embedding(V, E)
        self.rnn = nn.GRU(E, H, num_layers=2, batch_first=True, bidirectional=bidirectional)
        self.out = nn.Linear(H * (2 if bidirectional else 1), V)

    def forward(self, image, tokens):
        h = torch.tanh(self.init(self.enc(image)))
        h0 = torch.stack([h[:, k * H : (k + 1) * H] for k in range(self.states)]).contiguous()
        y, _ = self.rnn(self.emb(tokens), h0)
        return self.out(y)


class Vqa(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = Encoder()
        self.img = nn.Linear(6, 2 * H)
        self.emb = nn.Embedding(V, E)
        self.rnn = nn.GRU(E, H, bidirectional=True)
        self.out = nn.Linear(2 * H, A)

    def forward(self, image, question):
        v = torch.tanh(self.img(self.enc(image)))
        _, h = self.rnn(self.emb(question.transpose(0, 1)))
        q = torch.cat([h[0], h[1]], dim=1)
        return self.out(v * q)


def export(model, args, names, path):
    torch.onnx.export(
        model,
        args,
        path,
        opset_version=14,
        input_names=names,
        output_names=["logits"],
        dynamic_axes={names[0]: {0: "N"}, names[1]: {0: "N", 1: "T"}, "logits": {0: "N"}},
    )
    m = onnx.load(path)
    relus = [n for n in m.graph.node if n.op_type == "Relu"]
    return relus[-1].output[0], sorted({n.op_type for n in m.graph.node})


def compact(values):
    return [float("%.8g" % v) for v in values]


def grads(model, image, tokens, picks):
    """d (Σ_rows logit[row, pick]) / d image and / d layer, float64, one row per (b, position, class)."""
    m = model.double()
    out = {"image": [], "layer": []}
    for b, *pick in picks:
        x = torch.from_numpy(image[b : b + 1].astype(np.float64)).requires_grad_()
        y = m(x, torch.from_numpy(tokens[b : b + 1]))
        score = y[(0, *pick)]
        score.backward()
        out["image"] += compact(x.grad.reshape(-1).tolist())
        out["layer"] += compact(m.enc.layer.grad.reshape(-1).tolist())
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(13)
    rng = np.random.default_rng(13)
    image = rng.uniform(-1, 1, (2, 3, S, S)).astype(np.float32)
    fixtures = {}
    for name, model, n_tok, names in [
        ("captioner-lstm", Captioner(), T, ["image", "tokens"]),
        ("captioner-gru2", GruCaptioner(), T, ["image", "tokens"]),
        ("captioner-bigru2", GruCaptioner(bidirectional=True), T, ["image", "tokens"]),
        ("vqa-gru", Vqa(), Q, ["image", "question"]),
    ]:
        model.eval()
        tokens = rng.integers(0, V, (2, n_tok)).astype(np.int64)
        path = os.path.join(OUT, f"{name}.onnx")
        with torch.no_grad():
            layer, ops = export(model, (torch.from_numpy(image), torch.from_numpy(tokens)), names, path)
            logits = model(torch.from_numpy(image), torch.from_numpy(tokens)).double()
        if name.startswith("captioner"):
            rows = [(0, 3, 2), (1, 1, 7)]  # (image, position, token)
            repeat = [(0, 0, 4), (0, 2, 1), (0, 4, 8)]  # three words of image 0
        else:
            rows = [(0, 1), (1, 3)]  # (image, answer)
            repeat = [(0, 0), (0, 2), (0, 3)]
        fixtures[name] = {
            "model": f"{name}.onnx",
            "inputs": names,
            "ops": ops,
            # The recurrent node lies between the image and the logits (its state comes from the
            # image) in the captioners; the VQA question encoder does not depend on the image.
            "recurrentOnPath": name.startswith("captioner"),
            "layer": layer,
            "image": image.reshape(-1).tolist(),
            "imageShape": list(image.shape),
            "tokens": tokens.reshape(-1).tolist(),
            "tokenShape": list(tokens.shape),
            "logits": compact(logits.reshape(-1).tolist()),
            "logitShape": list(logits.shape),
            "rows": {"picks": rows, **grads(model, image, tokens, rows)},
            "repeat": {"picks": repeat, **grads(model, image, tokens, repeat)},
        }
        model.float()
        print(f"{name}: ops {', '.join(ops)}")
    with open(os.path.join(OUT, "recurrent-models.json"), "w") as f:
        json.dump(fixtures, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
