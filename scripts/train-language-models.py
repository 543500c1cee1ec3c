#!/usr/bin/python3
"""Trains gradsight's two language demo models on the TypeScript scene generator's data, exports ONNX.

  captioner  CNN encoder + LSTM decoder, teacher-forced: (image, token prefix) -> next-token logits
  vqa        CNN + GRU question encoder + fusion: (image, question) -> answer logits

Run once, on CPU, with Debian's PyTorch (torch 1.13, onnx 1.12):
    node --import tsx scripts/export-scenes.ts            # demo/.cache/scenes/*.npy
    /usr/bin/python3 scripts/train-language-models.py      # demo/models/{captioner,vqa}/

Writes model.onnx, preprocess.json, vocab.txt (and answers.txt), metrics.json and README.md per model.
Reproducible: fixed seeds, deterministic algorithms, 1 thread. Metrics are on the held-out `test` split.
"""

import argparse
import json
import os
import time
from collections import Counter, OrderedDict

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# One thread: on a shared 2-core machine a second torch thread made each step 8x slower (spin-waits).
THREADS = 1
SEED = 0
LR = 3e-3
WEIGHT_DECAY = 1e-4
OPSET = 13
# The held-out metrics are also stated on the first scenes of `test`, which gradsight's tests rerun.
SUBSET = 300
# VQA steps: 64 scenes, up to this many of each scene's questions (the CNN runs once per scene).
PER_SCENE = 8
# Label smoothing (Szegedy et al. 2016) of the word and answer cross-entropies: without it the models
# grew so sure that 1 − p(word) fell to ~1e-5 ("a" after <bos>), which float32 holds to a few digits,
# so the word's gradient, and its map, was rounding noise (the browser's and Node's maps differed).
SMOOTHING = 0.1


def block(name, cin, cout, pool):
    layers = [
        (f"conv{name}", nn.Conv2d(cin, cout, 3, padding=1, bias=False)),
        (f"bn{name}", nn.BatchNorm2d(cout)),
        (f"relu{name}", nn.ReLU()),
    ]
    if pool:
        layers.append((f"pool{name}", nn.MaxPool2d(2)))
    return layers


class Encoder(nn.Module):
    """Conv-BN-ReLU(-MaxPool) x4: 64x64 -> [C,16,16], the map Grad-CAM explains (the last ReLU)."""

    # (output channels, max-pool after the block)
    BLOCKS = ((8, True), (16, True), (32, False), (32, False))
    GRID = 16

    def __init__(self):
        super().__init__()
        layers, cin = [], 3
        for i, (cout, pool) in enumerate(self.BLOCKS):
            layers += block(i + 1, cin, cout, pool)
            cin = cout
        self.features = nn.Sequential(OrderedDict(layers))
        self.channels = cin

    def forward(self, x):
        return self.features(x)


class Moments(nn.Module):
    """Per channel of a [N,C,G,G] map: its mean and its x- and y-weighted means (coordinates in [-1, 1],
    centred): [N,3C]. One MatMul with a constant [G*G,3] matrix.

    Training only: the fact heads (ImageAux) read the map through these, so they know where each
    channel's mass lies ("left of", the leftmost object first)."""

    def __init__(self, channels, grid):
        super().__init__()
        self.channels, self.cells = channels, grid * grid
        c = (torch.arange(grid, dtype=torch.float32) + 0.5) / grid * 2 - 1
        y, x = torch.meshgrid(c, c, indexing="ij")
        self.register_buffer("basis", torch.stack([torch.ones(self.cells), x.flatten(), y.flatten()], 1) / self.cells)

    def forward(self, fmap):
        return (fmap.reshape(-1, self.channels, self.cells) @ self.basis).flatten(1)


def grid_coords(grid):
    """[G*G,2]: each cell's (x, y) centre in [-1, 1], row-major like a flattened map."""
    c = (torch.arange(grid, dtype=torch.float32) + 0.5) / grid * 2 - 1
    y, x = torch.meshgrid(c, c, indexing="ij")
    return torch.stack([x.flatten(), y.flatten()], 1)


class Locate(nn.Module):
    """First hop: one softmax attention over the cells of the image map (additive scores from each cell's
    features and position, plus a query vector when given), returning its weights [N,G*G] and the
    attended position [N,2] (the weighted mean of the cell centres), which the second hop reads as
    the cells' offsets from it ("left of the circle"; the caption's second object, next from the
    leftmost)."""

    def __init__(self, channels, width, query=None):
        super().__init__()
        self.key = nn.Conv2d(channels, width, 1)
        self.pos = nn.Linear(2, width, bias=False)
        self.query = nn.Linear(query, width, bias=False) if query else None
        self.score = nn.Linear(width, 1, bias=False)
        self.register_buffer("coords", grid_coords(Encoder.GRID))

    def forward(self, fmap, q=None):
        e = self.key(fmap).flatten(2).transpose(1, 2) + self.pos(self.coords)  # [N,G*G,D]
        if self.query is not None:
            e = e + self.query(q).unsqueeze(1)
        a = torch.softmax(self.score(torch.tanh(e)).squeeze(2), 1)
        return a, a @ self.coords


class Attend(nn.Module):
    """Second hop: per query row (a caption position, or a question), additive attention scores over the
    cells from the cells' features, positions, offsets from the first hop's position and the query:
    weights [N,R,G*G] (softmax over the cells, or a sigmoid per cell when `gate`)."""

    def __init__(self, channels, width, query, gate=False):
        super().__init__()
        self.key = nn.Conv2d(channels, width, 1)
        self.pos = nn.Linear(2, width, bias=False)
        self.rel = nn.Linear(2, width, bias=False)
        self.query = nn.Linear(query, width)
        self.score = nn.Linear(width, 1)
        self.gate = gate
        self.register_buffer("coords", grid_coords(Encoder.GRID))

    def logits(self, fmap, where, q):
        k = self.key(fmap).flatten(2).transpose(1, 2) + self.pos(self.coords)  # [N,G*G,D]
        k = k + self.rel(self.coords.unsqueeze(0) - where.unsqueeze(1))
        e = torch.tanh(k.unsqueeze(1) + self.query(q).unsqueeze(2))  # [N,R,G*G,D]
        return self.score(e).squeeze(3)

    def forward(self, fmap, where, q):
        s = self.logits(fmap, where, q)
        return torch.sigmoid(s) if self.gate else torch.softmax(s, 2)


class Attended(nn.Module):
    """The map each query row sees: the image map times that row's attention, [N, R·C, G, G] (row-major:
    row r's channels are r·C … r·C + C − 1). This is the layer gradsight explains (preprocess.json
    "layer"): the model reads it only through its per-channel sums (the context vectors), so a channel's
    gradient is the same at every cell and Grad-CAM at it is the row's attention times the map's
    gradient-weighted channels; a word at position r has zero gradient on every other row's channels."""

    def forward(self, fmap, a):
        n, c, g, _ = fmap.shape
        m = fmap.flatten(2).unsqueeze(1) * a.unsqueeze(2)  # [N,R,C,G*G]
        return m.reshape(n, -1, g, g)


def context(attended, channels):
    """[N, R·C, G, G] -> the per-row context vectors [N, R, C] (sums over the cells)."""
    return attended.sum((2, 3)).reshape(attended.shape[0], -1, channels)


class Captioner(nn.Module):
    """An LSTM over the embedded prefix and, per position, spatial attention over the encoder's map from
    the LSTM's output (Show, Attend and Tell; Xu et al. 2015): the word logits read the LSTM's output,
    the attended context and where the attention looks.

    The attention has two hops: the first (image only) finds the leftmost object, which the caption
    names first; the second, per position, scores each cell from its features, its position, its offset
    from the first hop's position and the LSTM's output (which knows the prefix), so the second phrase
    can look at the next object from the left. The image reaches the words only through the attention.

    The logits are linear in the attended context: a part from the LSTM's output and the hops'
    positions (the grammar, the relation words) plus a readout of the context gated per position by
    the LSTM's output (which of the attended object's features the next word names). So the
    gradient-weighted context at the object (what Grad-CAM sums there) is the context's contribution
    to the word's logit over its competitors', positive when the object's features favour the word.
    With Tanh(Linear(h) + Linear(context)) instead, Grad-CAM pointed at the object 82–83% of the
    time though the attention was on it every time: the nonlinearity could turn the sign of that
    contribution."""

    def __init__(self, vocab, emb=48, hidden=128, width=32, read=64):
        super().__init__()
        self.encoder = Encoder()
        c = self.encoder.channels
        self.embed = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True)
        self.locate = Locate(c, width)
        self.attend = Attend(c, width, hidden)
        self.attended = Attended()
        self.mix_h = nn.Linear(hidden, hidden)
        # Where the two hops look (the relation words compare them).
        self.mix_seen = nn.Linear(2, hidden, bias=False)
        self.mix_first = nn.Linear(2, hidden, bias=False)
        self.out = nn.Linear(hidden, vocab)
        self.gate = nn.Linear(hidden, read)
        self.mix_c = nn.Linear(c, read, bias=False)
        self.read = nn.Linear(read, vocab, bias=False)

    def decode(self, fmap, tokens, keep=None):
        """Logits [N,T,V], and for training the first hop's weights [N,G*G] and the second's [N,T,G*G]."""
        y, _ = self.lstm(self.embed(tokens))
        first, where = self.locate(fmap)
        a = self.attend(fmap, where, y)
        m = self.attended(fmap, a)
        if keep is not None:
            keep["map"] = m
        ctx = context(m, self.encoder.channels)
        z = self.mix_h(y) + self.mix_seen(a @ self.attend.coords) + self.mix_first(where).unsqueeze(1)
        seen = self.read(torch.sigmoid(self.gate(y)) * self.mix_c(ctx))
        return self.out(torch.tanh(z)) + seen, first, a

    def forward(self, image, tokens):
        return self.decode(self.encoder(image), tokens)[0]


class VQA(nn.Module):
    """Stacked spatial attention (Yang et al. 2016) over the encoder's map, queried by a GRU's last state
    over the embedded question: the first hop (softmax) finds the object the question names ("the
    circle" of "what shape is left of the circle?"), the second scores each cell from its features,
    position, offset from the first hop's position and the question, with a sigmoid per cell (so a
    count question can attend to every triangle). The answer reads the attended map's per-channel
    mean and its object centres' sum (linear in the attended map, as the captioner's readout, gated by
    the question), plus an MLP of the question alone (the answer's kind).

    A first version fused two global vectors (image × question, the VQA paper's product) and stayed
    near the answer prior (50% train accuracy after 3 epochs); a FiLM fusion (the question scaling the
    map) answered 93.7% but its Grad-CAM, at the question-free map before the FiLM, peaked on the
    object 54–59% of the time: one weight per channel cannot tell two objects with the same features
    apart, and the answer's evidence was spread over the scene."""

    CENTRES = 10  # the map's channel that the dense term trains to mark object centres

    def __init__(self, vocab, answers, emb=48, hidden=128, width=48, fused=128, read=64):
        super().__init__()
        self.encoder = Encoder()
        c = self.encoder.channels
        self.embed = nn.Embedding(vocab, emb)
        self.gru = nn.GRU(emb, hidden, batch_first=True)
        self.locate = Locate(c, width, hidden)
        self.attend = Attend(c, width, hidden, gate=True)
        self.attended = Attended()
        self.fc = nn.Linear(hidden, fused)
        self.answer = nn.Linear(fused, answers)
        self.gate = nn.Linear(hidden, read)
        self.mix_c = nn.Linear(c + 1, read, bias=False)
        self.read = nn.Linear(read, answers, bias=False)

    def fuse(self, fmap, question, keep=None):
        _, h = self.gru(self.embed(question))
        q = h[0]
        first, where = self.locate(fmap, q)
        a = self.attend(fmap, where, q.unsqueeze(1))  # [N,1,G*G]
        m = self.attended(fmap, a)
        if keep is not None:
            keep["map"] = m
        sums = context(m, self.encoder.channels)[:, 0]
        # The attended features' mean (what the attended cells are, not how many), and the attended
        # object centres' sum (how many, for counts). Both are sums of M over the cells, scaled.
        mean = sums / (a.sum(2) + 1)
        count = sums[:, self.CENTRES : self.CENTRES + 1]
        seen = self.read(torch.sigmoid(self.gate(q)) * self.mix_c(torch.cat([mean, count], 1)))
        return self.answer(F.relu(self.fc(q))) + seen, first, a[:, 0]

    def forward(self, image, question):
        return self.fuse(self.encoder(image), question)[0]


class ImageAux(nn.Module):
    """Training only: the map's Moments → Tanh(Linear) → AuxHeads (the scene facts), so the encoder learns
    the objects from the first steps. Without them the captioner's decoder learned the language prior
    first and shut the image out (61.6% word accuracy, the grammar alone)."""

    def __init__(self, channels, classes, width=256):
        super().__init__()
        self.pool = Moments(channels, Encoder.GRID)
        self.project = nn.Linear(channels * 3, width)
        self.heads = AuxHeads(width, classes)

    def loss(self, fmap, facts):
        return self.heads.loss(torch.tanh(self.project(self.pool(fmap))), facts)


def load(data_dir, split, what):
    return np.load(os.path.join(data_dir, f"{split}_{what}.npy"))


def normalize(images_u8, mean, std):
    x = torch.from_numpy(images_u8).float().div_(255)
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


class AuxHeads(nn.Module):
    """Linear heads on the image vector, for training only (not exported): one cross-entropy per scene
    fact. Without them the decoders learned the language prior first and then shut the image out (the
    image vector's spread over a batch fell to 0.1% within 25 steps); with them the image vector has to
    carry what the words need from the start."""

    def __init__(self, dim, classes):
        super().__init__()
        self.heads = nn.ModuleList(nn.Linear(dim, k) for k in classes)

    def loss(self, v, facts):
        return sum(F.cross_entropy(h(v), facts[:, k]) for k, h in enumerate(self.heads)) / len(self.heads)


def dense_targets(masks, objects, boxes, grid):
    """Per scene, the share of each cell of a grid×grid map covered by an object of each colour, shape and
    size, and the cell holding each object's box centre ([N,11,G,G]: red green blue yellow, circle square
    triangle cross, small large, centres), and the cover by no object."""
    m = F.avg_pool2d(torch.from_numpy(masks).float(), masks.shape[-1] // grid)
    o = torch.from_numpy(objects)
    present = (o[:, :, :1] >= 0).float()
    onehot = torch.cat([F.one_hot(o[:, :, 1].clamp(min=0), 4), F.one_hot(o[:, :, 0].clamp(min=0), 4),
                        F.one_hot(o[:, :, 2].clamp(min=0), 2)], 2).float() * present
    attrs = torch.einsum("nka,nkhw->nahw", onehot, m)
    b = torch.from_numpy(boxes).float()
    cell = masks.shape[-1] // grid
    cx = ((b[:, :, 0] + b[:, :, 2]) / 2 / cell).long().clamp(0, grid - 1)
    cy = ((b[:, :, 1] + b[:, :, 3]) / 2 / cell).long().clamp(0, grid - 1)
    centres = (F.one_hot(cy * grid + cx, grid * grid).float() * present).sum(1).view(-1, 1, grid, grid)
    return torch.cat([attrs, centres], 1), (1 - m.sum(1, keepdim=True)).clamp(min=0)


def object_cover(masks, grid):
    """[N,K,G*G]: each object's cover of each cell (its mask averaged over the cell)."""
    return F.avg_pool2d(torch.from_numpy(masks).float(), masks.shape[-1] // grid).flatten(2)


def attention_loss(a, target, gate=False):
    """Pulls attention weights [R,G*G] towards an object's cover [R,G*G]: cross-entropy against the cover
    normalised to sum 1 (softmax weights), or a per-cell binary cross-entropy (sigmoid weights)."""
    if gate:
        return F.binary_cross_entropy(a.clamp(1e-6, 1 - 1e-6), target.clamp(0, 1))
    p = target / target.sum(1, keepdim=True).clamp(min=1e-6)
    return -(p * torch.log(a + 1e-8)).sum(1).mean()


def question_targets(questions, objects, answer_objects, kinds, scenes, vocab):
    """Per question, which objects its attention is pulled to ([Q,3] weights over the scene's objects):
    the second hop to the answer's object (every object of the counted shape for a count question), the
    first hop to the object the question names (the "circle" of "what shape is left of the circle?",
    else the answer's object)."""
    ids = {w: i for i, w in enumerate(vocab)}
    shapes = [ids[w] for w in ("circle", "square", "triangle", "cross")]
    plurals = [ids[w] for w in ("circles", "squares", "triangles", "crosses")]
    relation = 3
    n = len(questions)
    hop2 = torch.zeros(n, 3)
    hop1 = torch.zeros(n, 3)
    q = questions.tolist()
    for k in range(n):
        o = objects[scenes[k]]
        a = int(answer_objects[k])
        if a >= 0:
            hop2[k, a] = 1
            hop1[k, a] = 1
        else:
            shape = next(plurals.index(w) for w in q[k] if w in plurals)
            for j in range(3):
                if o[j, 0] == shape:
                    hop2[k, j] = hop1[k, j] = 1
        if int(kinds[k]) == relation:
            shape = [shapes.index(w) for w in q[k] if w in shapes][-1]
            hop1[k] = torch.tensor([float(o[j, 0] == shape) for j in range(3)])
    return hop1, hop2


class DenseAux:
    """Training only: the Grad-CAM map's first channels regress the cells' colour/shape/size cover, and all
    channels are pushed to zero off the objects. Without it the maps' maxima fell on the cluttered
    background (colour words) or on another object (size words) about half the time."""

    def __init__(self, targets, background, weight=4.0):
        self.targets, self.background, self.weight = targets, background, weight

    def loss(self, fmap, idx):
        t, bg = self.targets[idx], self.background[idx]
        fit = F.mse_loss(fmap[:, : t.shape[1]], t)
        return self.weight * fit + (fmap * bg).mean()


def caption_facts(caps, vocab):
    """Per caption: colour, shape and smallness of its first object, the relation, the same of the second."""
    ids = {w: i for i, w in enumerate(vocab)}
    colors = [ids[w] for w in ("red", "green", "blue", "yellow")]
    shapes = [ids[w] for w in ("circle", "square", "triangle", "cross")]
    relations = [ids[w] for w in ("left", "right", "above", "below")]
    out = []
    for c in caps.tolist():
        second = c.index(ids["a"], 2)
        fact = []
        for phrase in (c[:second], c[second:]):
            fact += [
                next(colors.index(w) for w in phrase if w in colors),
                next(shapes.index(w) for w in phrase if w in shapes),
                int(ids["small"] in phrase),
            ]
        fact.insert(3, next(relations.index(w) for w in c if w in relations))
        out.append(fact)
    return torch.tensor(out), [4, 4, 2, 4, 4, 4, 2]


def count_facts(objects):
    """Per scene: how many objects of each shape, and of each colour (0–3)."""
    o = torch.from_numpy(objects)
    shapes = torch.stack([(o[:, :, 0] == k).sum(1) for k in range(4)], 1)
    colors = torch.stack([(o[:, :, 1] == k).sum(1) for k in range(4)], 1)
    return torch.cat([shapes, colors], 1), [4] * 8


def schedule(modules, steps):
    params = [p for m in modules for p in m.parameters()]
    opt = torch.optim.AdamW(params, lr=LR, weight_decay=WEIGHT_DECAY)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=steps, pct_start=0.2)
    return opt, sched


def step(opt, sched, loss):
    opt.zero_grad()
    loss.backward()
    opt.step()
    sched.step()


def train_captioner(model, aux, dense, facts, cover, cap_objects, relation_ids, x, caps, epochs, batch, log):
    """Cross-entropy on the next tokens, the fact heads, the dense map term, and the attention terms: the
    first hop pulled to the caption's first object, the second, at each position whose next word names
    an object, to that object (free elsewhere)."""
    g = torch.Generator().manual_seed(SEED)
    opt, sched = schedule((model, aux), epochs * ((len(x) + batch - 1) // batch))
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(x), generator=g)
        total, look, t0 = 0.0, 0.0, time.time()
        for i in range(0, len(x), batch):
            idx = perm[i : i + batch]
            c, co = caps[idx], cap_objects[idx]
            fmap = model.encoder(x[idx])
            logits, first, a = model.decode(fmap, c[:, :-1])
            loss = F.cross_entropy(logits.flatten(0, 1), c[:, 1:].flatten(), ignore_index=0, label_smoothing=SMOOTHING)
            cv = cover[idx]  # [B,K,G*G]
            rows = torch.arange(len(idx))
            first_obj = co[rows, (co >= 0).long().argmax(1)]  # the first word that names an object
            attn = attention_loss(first, cv[rows, first_obj])
            nxt = co[:, 1:]
            b, t = (nxt >= 0).nonzero(as_tuple=True)
            attn = attn + attention_loss(a[b, t], cv[b, nxt[b, t]])
            # The position that says the relation looks at the second object (the caption's last named).
            second = co.gather(1, (co >= 0).long().cumsum(1).argmax(1, keepdim=True))[:, 0]
            b, t = torch.isin(c[:, 1:], relation_ids).nonzero(as_tuple=True)
            attn = attn + attention_loss(a[b, t], cv[b, second[b]])
            step(opt, sched, loss + aux.loss(fmap, facts[idx]) + dense.loss(fmap, idx) + attn)
            total += float(loss) * len(idx)
            look += float(attn) * len(idx)
            if epoch == 0 and (i // batch) % 25 == 24:
                log(f"    step {i // batch + 1}: loss {float(loss):.4f}, attention {float(attn):.4f}")
        log(f"  epoch {epoch + 1}/{epochs}: loss {total / len(x):.4f}, attention {look / len(x):.4f}, {time.time() - t0:.1f} s")


def train_vqa(model, aux, dense, facts, cover, hops, x, qs, ans, q_scene, epochs, batch, per_scene, log):
    """Batches of scenes: the CNN runs once per image, then up to `per_scene`×batch of its questions. The
    attention terms pull each hop to its objects (question_targets)."""
    g = torch.Generator().manual_seed(SEED)
    opt, sched = schedule((model, aux), epochs * ((len(x) + batch - 1) // batch))
    hop1, hop2 = hops
    by_scene = [[] for _ in range(len(x))]
    for k, s in enumerate(q_scene.tolist()):
        by_scene[s].append(k)
    by_scene = [torch.tensor(v) for v in by_scene]
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(x), generator=g)
        total, look, correct, count, t0 = 0.0, 0.0, 0, 0, time.time()
        for i in range(0, len(x), batch):
            idx = perm[i : i + batch]
            rows, pos = [], []
            for j, s in enumerate(idx.tolist()):
                qk = by_scene[s]
                qk = qk[torch.randperm(len(qk), generator=g)[:per_scene]]
                rows.append(qk)
                pos.append(torch.full((len(qk),), j, dtype=torch.long))
            rows, pos = torch.cat(rows), torch.cat(pos)
            fmap = model.encoder(x[idx])
            logits, first, a = model.fuse(fmap[pos], qs[rows])
            loss = F.cross_entropy(logits, ans[rows], label_smoothing=SMOOTHING)
            cv = cover[idx][pos]  # [R,K,G*G]
            t1 = torch.einsum("rk,rkc->rc", hop1[rows], cv)
            named = t1.sum(1) > 0
            attn = attention_loss(first[named], t1[named]) + attention_loss(a, torch.einsum("rk,rkc->rc", hop2[rows], cv), gate=True)
            step(opt, sched, loss + aux.loss(fmap, facts[idx]) + dense.loss(fmap, idx) + attn)
            total += float(loss) * len(rows)
            look += float(attn) * len(rows)
            correct += int((logits.argmax(1) == ans[rows]).sum())
            count += len(rows)
            if epoch == 0 and (i // batch) % 25 == 24:
                log(f"    step {i // batch + 1}: loss {float(loss):.4f}, attention {float(attn):.4f}")
        log(f"  epoch {epoch + 1}/{epochs}: loss {total / count:.4f}, attention {look / count:.4f}, train acc {correct / count:.4f}, {time.time() - t0:.1f} s")


@torch.no_grad()
def caption_accuracy(model, x, caps):
    """Teacher-forced next-token accuracy over the caption's words and <eos>; greedy exact-caption rate."""
    model.eval()
    right, total, exact = 0, 0, 0
    for i in range(0, len(x), 250):
        xb, c = x[i : i + 250], caps[i : i + 250]
        pred = model(xb, c[:, :-1]).argmax(2)
        target = c[:, 1:]
        keep = target != 0
        right += int(((pred == target) & keep).sum())
        total += int(keep.sum())
        # Greedy decoding from <bos> (the image's state computed once).
        fmap, seq = model.encoder(xb), c[:, :1]
        for _ in range(c.shape[1] - 1):
            seq = torch.cat([seq, model.decode(fmap, seq)[0][:, -1:].argmax(2)], 1)
        for a, b in zip(seq.tolist(), c.tolist()):
            exact += a[: b.index(2) + 1] == b[: b.index(2) + 1]
    return right / total, exact / len(x)


@torch.no_grad()
def vqa_predict(model, x, qs, q_scene):
    model.eval()
    out = []
    for i in range(0, len(qs), 500):
        s = q_scene[i : i + 500]
        out.append(model(x[s], qs[i : i + 500]).argmax(1))
    return torch.cat(out)


def gradcam(fmap, score):
    """Grad-CAM of a scalar on the explained map, bilinear to 64x64: [N,64,64]."""
    (grad,) = torch.autograd.grad(score, fmap)
    cam = F.relu((grad.mean(dim=(2, 3), keepdim=True) * fmap).sum(1, keepdim=True))
    return F.interpolate(cam, size=(64, 64), mode="bilinear", align_corners=False)[:, 0].detach()


def box_stats(cams, boxes, kinds=None, names=()):
    """Mean share of the map's mass inside the box, the box's mean area share, pointing game (argmax
    inside), and the pointing game per kind of word (answer) when `kinds` are given."""
    n = len(cams)
    inside = torch.zeros(n, 64, 64)
    for k, (x0, y0, x1, y1) in enumerate(boxes.tolist()):
        inside[k, y0 : y1 + 1, x0 : x1 + 1] = 1
    mass = cams.sum((1, 2))
    ok = mass > 0
    share = (cams * inside).sum((1, 2))[ok] / mass[ok]
    flat = cams.flatten(1).argmax(1)
    hit = inside.flatten(1).gather(1, flat[:, None])[:, 0] * ok
    out = {
        "mass_in_box": round(float(share.mean()), 4),
        "box_area_share": round(float(inside.mean((1, 2)).mean()), 4),
        "pointing": round(float(hit.mean()), 4),
        "zero_maps": int((~ok).sum()),
        "count": n,
    }
    if kinds is not None:
        out["pointing_by_kind"] = {
            name: round(float(hit[kinds == k].mean()), 4) for k, name in enumerate(names) if (kinds == k).any()
        }
    return out


def word_kinds(tokens, vocab):
    """0 size, 1 colour, 2 shape, per token id (-1 for other words)."""
    ids = {w: i for i, w in enumerate(vocab)}
    kind = torch.full((len(vocab),), -1, dtype=torch.long)
    kind[ids["small"]] = 0
    for w in ("red", "green", "blue", "yellow"):
        kind[ids[w]] = 1
    for w in ("circle", "square", "triangle", "cross"):
        kind[ids[w]] = 2
    return kind[tokens]


def caption_gradcam(model, x, caps, cap_objects, boxes, vocab, limit=200):
    """Grad-CAM (at the attended map) of log p(word | prefix, image) for each caption word that names an
    object, on that object's box."""
    model.eval()
    cams, bxs, kinds = [], [], []
    for i in range(0, limit, 50):
        xb, c, co = x[i : i + 50], caps[i : i + 50], cap_objects[i : i + 50]
        for t in range(1, c.shape[1]):
            rows = (co[:, t] >= 0).nonzero()[:, 0]
            if len(rows) == 0:
                continue
            keep = {}
            fmap = model.encoder(xb[rows])
            logits = model.decode(fmap, c[rows, :t], keep)[0]
            logp = F.log_softmax(logits, dim=2)[:, t - 1]
            score = logp.gather(1, c[rows, t : t + 1]).sum()
            cams.append(gradcam(keep["map"], score))
            bxs.append(torch.from_numpy(boxes[i + rows.numpy(), co[rows, t].numpy()]))
            kinds.append(word_kinds(c[rows, t], vocab))
    return box_stats(torch.cat(cams), torch.cat(bxs), torch.cat(kinds), ("size", "colour", "shape"))


def vqa_gradcam(model, x, qs, q_scene, q_objects, ans, boxes, q_kinds, kind_names, limit=2000):
    """Grad-CAM (at the attended map) of the true answer's score for answers about one object, on that
    object's box."""
    model.eval()
    sel = (q_objects[:limit] >= 0).nonzero()[:, 0]
    cams, bxs, kinds = [], [], []
    for i in range(0, len(sel), 200):
        k = sel[i : i + 200]
        keep = {}
        out = model.fuse(model.encoder(x[q_scene[k]]), qs[k], keep)[0]
        cams.append(gradcam(keep["map"], out.gather(1, ans[k][:, None]).sum()))
        bxs.append(torch.from_numpy(boxes[q_scene[k].numpy(), q_objects[k].numpy()]))
        kinds.append(torch.from_numpy(q_kinds[k.numpy()]).long())
    return box_stats(torch.cat(cams), torch.cat(bxs), torch.cat(kinds), kind_names)


def export(model, path, inputs, input_names, output_name, dynamic):
    model.eval()
    torch.onnx.export(
        model,
        inputs,
        path,
        opset_version=OPSET,
        input_names=input_names,
        output_names=[output_name],
        dynamic_axes=dynamic,
        do_constant_folding=True,
    )
    onnx.checker.check_model(onnx.load(path))


def onnx_summary(path):
    g = onnx.load(path).graph
    ops = Counter(n.op_type for n in g.node)
    recurrent = []
    for n in g.node:
        if n.op_type in ("LSTM", "GRU"):
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
            attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in attrs.items()}
            recurrent.append({"op": n.op_type, "name": n.name, "inputs": list(n.input), "attributes": attrs})
    return dict(sorted(ops.items())), recurrent


def write_text(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")



def pct(v):
    return f"{100 * v:.1f}%"


def data_section(meta, stats, epochs):
    sp = meta["splits"]
    rows = "\n".join(f"| `{k}` | {v['seed']} | {v['count']} |" for k, v in sp.items())
    return f"""## Data and training

Scenes from `src/demo/scenes.ts` and words from `src/demo/language.ts` (seeded, procedural: the same
bytes and words on every machine): 64×64 images of 2–3 non-overlapping objects (circle, square,
triangle, cross; red, green, blue, yellow; small or large; upright ±11°) on a muted cluttered
background.

| split | seed | scenes |
|---|---|---|
{rows}

Training uses `train` only; the numbers below are on the held-out `test` split (another seed, an
independent stream: no training scene reappears). AdamW (lr {LR}, weight decay {WEIGHT_DECAY}, one-cycle),
batch 64 scenes, {epochs} epochs, no augmentation (flips would change the words),
`torch.manual_seed({SEED})`, deterministic algorithms, {THREADS} thread: {stats['train_seconds']:.0f} s on a
shared 2-core CPU (torch {torch.__version__}). Label smoothing {SMOOTHING} on the word (answer) cross-entropy: without
it the model grew so sure that 1 − p fell to ~1e-5 for some words, which float32 holds to a few
digits, and such a word's gradient (its map) was rounding noise."""


def gradcam_line(g, what, layer):
    kinds = ", ".join(f"{k} {pct(v)}" for k, v in g["pointing_by_kind"].items())
    return (
        f"Grad-CAM (at the attended map `{layer}`, bilinear to 64×64, measured in PyTorch by the training script) of {what}: "
        f"{pct(g['mass_in_box'])} of the map's mass lies inside the object's box, which covers "
        f"{pct(g['box_area_share'])} of the image on average; the map's maximum is inside the box "
        f"(pointing game) for {pct(g['pointing'])} of {g['count']} cases ({kinds}). gradsight recomputes these "
        f"numbers on 64 test scenes (`demo/metrics.json`, `test/demo/language-metrics.test.ts`)."
    )


def attended_layer(path):
    """The name of the attended map in the export: the output of the Attended module's last Reshape."""
    names = [n.output[0] for n in onnx.load(path).graph.node if n.name.startswith("/attended/") and n.op_type == "Reshape"]
    return names[-1]


VQA_RETRAIN = """(`--only vqa` starts from `demo/.cache/captioner.pt`, which the captioner's training writes;
the shipped models come from one run without `--only`: the captioner, then the VQA model from its
encoder.) Then recompute gradsight's numbers: `node --import tsx scripts/demo-metrics.ts --language`."""


def write_readme(out, name, stats, meta, epochs):
    layer = stats["layer"]
    V = len(open(os.path.join(out, "vocab.txt")).read().splitlines())
    retrain = f"""## Retrain

```bash
node --import tsx scripts/export-scenes.ts              # writes demo/.cache/scenes/*.npy (git-ignored)
/usr/bin/python3 scripts/train-language-models.py --only {name}   # writes demo/models/{name}/
```
{"Then recompute gradsight's numbers: `node --import tsx scripts/demo-metrics.ts --language`." if name == "captioner" else VQA_RETRAIN}"""
    ops = ", ".join(f"{k} ×{v}" for k, v in stats["ops"].items())
    rec = stats["recurrent"][0]
    attrs = ", ".join(f"`{k}: {v}`" for k, v in rec["attributes"].items())
    if name == "captioner":
        g = stats["test_gradcam_object_words"]
        text = f"""# captioner

A small image captioner for gradsight's scenes: a CNN encoder and an LSTM decoder, so Grad-CAM can
explain each word of a caption (Selvaraju et al., Fig. 6). Captions come from a small grammar:
the leftmost object, its relation to the next object from the left, that object —
"a red circle left of a small blue square", "a small green triangle above a yellow cross".

## Model

- Inputs: `image` float32 [N,3,64,64]; `tokens` int64 [N,T], the caption prefix starting with `<bos>`
  (T dynamic). Output: `logits` float32 [N,T,{V}]: at every position t, the next-token
  logits given `tokens[:, 0..t]` (teacher forcing; causal, so padding after t changes nothing at t).
  Greedy decoding: start from `<bos>`, append the argmax of the last position, stop at `<eos>` or
  after `maxLength` = {meta['captionMaxLength']} tokens.
- Architecture (Show, Attend and Tell: Xu et al. 2015): 4 blocks of Conv 3×3 (no bias) → BatchNorm →
  ReLU, channels {" → ".join(f"{c}{' + MaxPool' if p else ''}" for c, p in Encoder.BLOCKS)}, giving the image map
  A = `/encoder/features/relu4/Relu_output_0` [N,32,16,16]. Embedding {V} × 48 → LSTM (hidden 128,
  zero initial state) → h_t at each position t. Spatial attention in two hops, each score an additive
  one (Linear → Tanh → Linear) of a cell's features, its position and a query: the first hop (softmax
  over the 256 cells, image only) finds the leftmost object, which the caption names first; the
  second, per position, scores each cell from its features, its position, its offset from the first
  hop's attended position and h_t, softmax over the cells: a_t. The attended map M_t = A ⊙ a_t, laid
  out as one tensor `{layer}` [N, T·32, 16, 16] (position t's channels are t·32 … t·32 + 31): **the
  Grad-CAM layer**, named by `"layer"` in `preprocess.json` (gradsight's search would pass over it,
  since the tokens reach it). The context c_t = Σ_cells M_t. The logits: Linear 128 → {V} of
  Tanh(Linear(h_t) + Linear(where both hops look)) (the grammar, the relation words) plus Linear 64 →
  {V} of Sigmoid(Linear(h_t)) ⊙ Linear(c_t) (which of the object's features the next word names). The
  image reaches the words only through the attention. The model reads M only through the sums c_t,
  so a channel's gradient is the same at every cell and Grad-CAM of a word at position t is
  a_t ⊙ Σ_k α_k A_k over that position's channels alone (every other position's gradient is zero);
  and the logits are linear in c_t, so what Grad-CAM sums over the object is the context's
  contribution to the word's logit over its competitors': positive when the object's features favour
  the word. (With Tanh(Linear(h_t) + Linear(c_t)), with or without the image setting the LSTM's
  initial state, Grad-CAM pointed at the object 82–83% of the time although the attention was on it
  every time: the nonlinearity could turn that sign.)
  {stats['parameters']:,} parameters, float32, ONNX opset {OPSET}, `model.onnx` {stats['onnx_bytes']:,} bytes.
- ONNX ops: {ops}. The `LSTM` node is as torch.onnx.export writes it: {attrs}
  (forward, default activations), no `sequence_lens`, `initial_h`/`initial_c` zeros (ConstantOfShape).
- Files: `vocab.txt` (token per line, line index = id; `<pad>` 0, `<bos>` 1, `<eos>` 2, `<unk>` 3),
  `preprocess.json` (RGB, `x = (pixel/255 − mean)/std`, and `"task": "captioning"`, `"vocabulary"`,
  `"maxLength"`, `"layer"`).

{data_section(meta, stats, epochs)} Loss: cross-entropy on every next token (words and `<eos>`), plus, for
training only, linear heads on the image map's means and x/y-weighted means that predict the caption's
facts (colour, shape and size of both objects, the relation): without them the decoder learned the
grammar first and then shut the image out (an earlier run: 61.6% word accuracy, the grammar alone); and
a dense term on the image map A: its first 11 channels regress each cell's cover by an object of
each colour, shape and size and the cell of each object's centre (from the scenes' masks), and all
channels are pushed to zero off the objects; and **the attention is supervised**: the first hop is
pulled towards the first object's mask, and a_t, at each position whose next word names an object
(its size, colour or shape), towards that object's mask, and at the position whose next word is the
relation, towards the second object (cross-entropy against the mask's cover of the cells,
normalised), free at the other positions. So the model is trained to look at the object
a word names; the pointing game then checks that gradsight's Grad-CAM shows where the model looks
and that the word's evidence there is positive, not that the model found the object unaided. (Without
attention, Grad-CAM at A weighted each channel by one number for the whole map, and the maxima fell on
another object sharing the word's features, or one that raised the word's probability by elimination:
pointing 54.9–58.8%.) The attention's own maximum was on the named object for every word of the
first 200 test scenes.

## Accuracy (measured on `test`, {meta['splits']['test']['count']} scenes)

| metric | value |
|---|---|
| word accuracy (teacher-forced next token, words and `<eos>`) | **{pct(stats['test_word_accuracy'])}** |
| greedy caption exactly right | {pct(stats['test_caption_exact'])} |
| the same on the first {SUBSET} scenes (rerun by `test/demo/language.test.ts` with gradsight) | {pct(stats[f'test_word_accuracy_first_{SUBSET}_scenes'])} / {pct(stats[f'test_caption_exact_first_{SUBSET}_scenes'])} |

{gradcam_line(g, "log p(word | prefix, image) for the caption words that name an object (its size, colour or shape), on the first 200 test scenes", layer)}

{retrain}
"""
    else:
        g = stats["test_gradcam_answer_objects"]
        kinds = "\n".join(f"| {k} | {pct(v)} |" for k, v in stats["test_answer_accuracy_by_kind"].items())
        text = f"""# vqa

A small visual question answering model for gradsight's scenes: a CNN, a GRU question encoder and
stacked spatial attention (the question picks the cells the answer reads), so Grad-CAM can explain an
answer (Selvaraju et al., Fig. 7). Questions: "what colour is the square?", "what shape is the blue
object?", "what size is the circle?", "what shape is left of the circle?", "how many triangles?"
(asked only when the answer is unique).

## Model

- Inputs: `image` float32 [N,3,64,64]; `question` int64 [N,Q], the question's token ids **left-padded**
  with `<pad>` (0) to Q = {meta['questionLength']} as in training (Q is dynamic in the export; pad to
  {meta['questionLength']} for the accuracy below). Output: `answer_logits` float32 [N,14] (before softmax),
  in `answers.txt` order.
- Architecture (stacked attention: Yang et al. 2016): the captioner's CNN (4 Conv-BN-ReLU blocks,
  {" → ".join(f"{c}{' + MaxPool' if p else ''}" for c, p in Encoder.BLOCKS)}) to the image map A =
  `/encoder/features/relu4/Relu_output_0` [N,32,16,16]. Embedding {V} × 48 → GRU (hidden 128), last
  state q. Two attention hops, each score an additive one (Linear → Tanh → Linear) of a cell's
  features, its position and q: the first (softmax over the 256 cells) finds the object the question
  names ("the circle" of "what shape is left of the circle?"); the second scores each cell also from its
  offset to the first hop's attended position, with a sigmoid per cell (a count question attends to
  every triangle): a. The attended map M = A ⊙ a, `{layer}` [N,32,16,16]: **the Grad-CAM layer**,
  named by `"layer"` in `preprocess.json` (the question reaches it, so gradsight's search would pass
  over it). The answer: Linear 128 → 128 → ReLU → Linear 128 → 14 of q (the answer's kind) plus
  Linear 64 → 14 of Sigmoid(Linear(q)) ⊙ Linear of the attended features' mean (Σ_cells M over
  Σ_cells a + 1) and the sum of M's channel 10 (trained to mark object centres: the count). The model
  reads M only through those sums and linearly, so Grad-CAM at M is a ⊙ Σ_k α_k A_k, and its sum over
  the object is the object's contribution to the answer's logit over its competitors'. (With an MLP
  of [context, q], Grad-CAM pointed at the object for 75–81% of the size answers, 73% of the "small"
  ones, though the attention was on it for 99%: the nonlinearity turned the sign.) {stats['parameters']:,} parameters, float32, ONNX opset {OPSET}, `model.onnx`
  {stats['onnx_bytes']:,} bytes.
- ONNX ops: {ops}. The `GRU` node is as torch.onnx.export writes it: {attrs}
  (forward, default activations), no `sequence_lens`, `initial_h` zeros (ConstantOfShape).
- Files: `vocab.txt` (as the captioner's), `answers.txt` (answer per line, line index = output index),
  `preprocess.json` (RGB, `x = (pixel/255 − mean)/std`, and `"task": "vqa"`, `"vocabulary"`, `"answers"`,
  `"padding": "left"` and `"tokenLength": {meta['questionLength']}`: how gradsight pads a question; `"layer"`).

{data_section(meta, stats, epochs)} The CNN starts from the trained captioner's encoder (so
`--only vqa` needs `demo/.cache/captioner.pt`, which the captioner's training writes); from scratch,
training accuracy was still about 50% after 2–3 epochs. Each step takes up to {PER_SCENE} random questions per scene (the CNN
runs once per scene). Loss: cross-entropy over the 14 answers, plus, for training only,
linear heads on the image map's means and weighted means that predict scene facts (the caption's facts, the
count of each shape and colour), so the encoder learns the objects from the first steps, the
captioner's dense term on the image map (cover by each colour, shape and size, object centres; zero off
the objects), and **supervised attention**: the second hop is pulled towards the mask of the object
the answer is about (per-cell binary cross-entropy; for a count question, the masks of every object of
the counted shape), the first towards the object the question names (for a relation question the
reference object, else the answer's). So the model is trained to look at the object; the pointing
game then checks that gradsight's Grad-CAM shows where it looks and that the answer's evidence there
is positive. (The previous model, FiLM fusion with Grad-CAM at A before the question meets it,
answered 93.7% but pointed at the object 54–59% of the time.)

## Accuracy (measured on `test`, {stats['test_questions']:,} questions on {meta['splits']['test']['count']} scenes)

| question kind | answer accuracy |
|---|---|
| **all** | **{pct(stats['test_answer_accuracy'])}** |
{kinds}

Baseline (the most frequent training answer of the question's kind): {pct(stats['test_majority_baseline'])}. On the first
{SUBSET} scenes ({stats[f'test_questions_first_{SUBSET}_scenes']:,} questions, rerun by `test/demo/language.test.ts` with gradsight):
{pct(stats[f'test_answer_accuracy_first_{SUBSET}_scenes'])}.

{gradcam_line(g, "the true answer's score for the answers about one object (colour, shape, size, relation questions), on the first 2,000 test questions", layer)}

{retrain}
"""
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(ROOT, "demo", ".cache", "scenes"))
    default_out = os.path.join(ROOT, "demo", "models")
    ap.add_argument("--out", default=default_out)
    ap.add_argument("--caption-epochs", type=int, default=12)
    ap.add_argument("--vqa-epochs", type=int, default=5)
    ap.add_argument("--only", choices=["captioner", "vqa"])
    ap.add_argument("--encoder", help="VQA: start the CNN from these captioner weights (default demo/.cache/captioner.pt)")
    ap.add_argument("--readme-only", action="store_true", help="rewrite README.md from metrics.json, no training")
    args = ap.parse_args()

    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)
    meta = json.load(open(os.path.join(args.data, "meta.json")))
    size = meta["size"]
    vocab = open(os.path.join(args.data, "vocab.txt")).read().split("\n")[:-1]
    answers = open(os.path.join(args.data, "answers.txt")).read().split("\n")[:-1]

    if args.readme_only:
        for name in ("captioner", "vqa"):
            if args.only in (None, name):
                out = os.path.join(args.out, name)
                m = json.load(open(os.path.join(out, "metrics.json")))
                write_readme(out, name, m, meta, m["epochs"])
        return

    train_u8 = load(args.data, "train", "images")
    px = train_u8.transpose(1, 0, 2, 3).reshape(3, -1).astype(np.float64) / 255
    mean = [round(float(v), 3) for v in px.mean(1)]
    std = [round(float(v), 3) for v in px.std(1)]
    del px
    preprocess = {"layout": "NCHW", "size": size, "mean": mean, "std": std, "scale": "0-1", "labelOffset": 0}
    x = normalize(train_u8, mean, std)
    del train_u8
    test_x = normalize(load(args.data, "test", "images"), mean, std)
    test_boxes = load(args.data, "test", "boxes")
    train_masks = load(args.data, "train", "masks")
    dense = DenseAux(*dense_targets(train_masks, load(args.data, "train", "objects"), load(args.data, "train", "boxes"), Encoder.GRID))
    cover = object_cover(train_masks, Encoder.GRID)
    del train_masks
    T = meta["captionMaxLength"]

    def log(s):
        print(s, flush=True)

    results = {}
    if args.only in (None, "captioner"):
        torch.manual_seed(SEED)
        caps = torch.from_numpy(load(args.data, "train", "captions"))
        model = Captioner(len(vocab))
        facts, classes = caption_facts(caps, vocab)
        aux = ImageAux(model.encoder.channels, classes)
        log(f"captioner: {len(x)} scenes, {args.caption_epochs} epochs")
        t0 = time.time()
        cap_objects = torch.from_numpy(load(args.data, "train", "caption_objects"))
        relation_ids = torch.tensor([vocab.index(w) for w in ("left", "right", "above", "below")])
        train_captioner(model, aux, dense, facts, cover, cap_objects, relation_ids, x, caps, args.caption_epochs, 64, log)
        train_s = time.time() - t0
        test_caps = torch.from_numpy(load(args.data, "test", "captions"))
        word_acc, exact = caption_accuracy(model, test_x, test_caps)
        sub_acc, sub_exact = caption_accuracy(model, test_x[:SUBSET], test_caps[:SUBSET])
        stats = {
            "train_seconds": round(train_s, 1),
            "test_word_accuracy": round(word_acc, 4),
            "test_caption_exact": round(exact, 4),
            f"test_word_accuracy_first_{SUBSET}_scenes": round(sub_acc, 4),
            f"test_caption_exact_first_{SUBSET}_scenes": round(sub_exact, 4),
            "test_gradcam_object_words": caption_gradcam(
                model, test_x, test_caps, torch.from_numpy(load(args.data, "test", "caption_objects")), test_boxes, vocab
            ),
        }
        out = os.path.join(args.out, "captioner")
        os.makedirs(out, exist_ok=True)
        path = os.path.join(out, "model.onnx")
        export(
            model, path, (torch.zeros(1, 3, *size), torch.ones(1, 4, dtype=torch.long)), ["image", "tokens"], "logits",
            {"image": {0: "N"}, "tokens": {0: "N", 1: "T"}, "logits": {0: "N", 1: "T"}},
        )
        torch.save(model.state_dict(), os.path.join(os.path.dirname(args.data), "captioner.pt" if args.out == default_out else "captioner-trial.pt"))
        stats["onnx_bytes"] = os.path.getsize(path)
        stats["parameters"] = sum(p.numel() for p in model.parameters())
        stats["ops"], stats["recurrent"] = onnx_summary(path)
        stats["layer"] = attended_layer(path)
        pre = {**preprocess, "task": "captioning", "vocabulary": "vocab.txt", "maxLength": T, "layer": stats["layer"]}
        json.dump(pre, open(os.path.join(out, "preprocess.json"), "w"))
        write_text(os.path.join(out, "vocab.txt"), vocab)
        results["captioner"] = stats
        log(json.dumps(stats, indent=1))
        del model

    if args.only in (None, "vqa"):
        torch.manual_seed(SEED)
        qs = torch.from_numpy(load(args.data, "train", "questions"))
        ans = torch.from_numpy(load(args.data, "train", "answers"))
        q_scene = torch.from_numpy(load(args.data, "train", "question_scenes"))
        model = VQA(len(vocab), len(answers))
        # The CNN starts from the captioner's trained encoder: from scratch, training accuracy was still
        # about 50% after 2–3 epochs, and epochs cost minutes here.
        cap_weights = args.encoder or os.path.join(os.path.dirname(args.data), "captioner.pt" if args.out == default_out else "captioner-trial.pt")
        encoder = {k[len("encoder."):]: v for k, v in torch.load(cap_weights).items() if k.startswith("encoder.")}
        model.encoder.load_state_dict(encoder)
        f1, k1 = caption_facts(torch.from_numpy(load(args.data, "train", "captions")), vocab)
        f2, k2 = count_facts(load(args.data, "train", "objects"))
        aux = ImageAux(model.encoder.channels, k1 + k2)
        log(f"vqa: {len(x)} scenes, {len(qs)} questions, {args.vqa_epochs} epochs")
        t0 = time.time()
        hops = question_targets(
            qs, load(args.data, "train", "objects"), load(args.data, "train", "question_objects"),
            load(args.data, "train", "question_kinds"), q_scene.numpy(), vocab,
        )
        train_vqa(model, aux, dense, torch.cat([f1, f2], 1), cover, hops, x, qs, ans, q_scene, args.vqa_epochs, 64, PER_SCENE, log)
        train_s = time.time() - t0
        tq = torch.from_numpy(load(args.data, "test", "questions"))
        ta = torch.from_numpy(load(args.data, "test", "answers"))
        ts = torch.from_numpy(load(args.data, "test", "question_scenes"))
        tk = load(args.data, "test", "question_kinds")
        pred = vqa_predict(model, test_x, tq, ts)
        right = (pred == ta).numpy()
        kinds = meta["questionKinds"]
        # Chance: always the most frequent training answer of the question's kind.
        train_kinds = load(args.data, "train", "question_kinds")
        prior = {k: Counter(ans.numpy()[train_kinds == k].tolist()).most_common(1)[0][0] for k in range(len(kinds))}
        base = np.array([ta.numpy()[i] == prior[int(tk[i])] for i in range(len(ta))])
        first = (ts < SUBSET).numpy()
        stats = {
            "train_seconds": round(train_s, 1),
            "test_answer_accuracy": round(float(right.mean()), 4),
            f"test_answer_accuracy_first_{SUBSET}_scenes": round(float(right[first].mean()), 4),
            f"test_questions_first_{SUBSET}_scenes": int(first.sum()),
            "test_answer_accuracy_by_kind": {k: round(float(right[tk == i].mean()), 4) for i, k in enumerate(kinds)},
            "test_majority_baseline": round(float(base.mean()), 4),
            "test_questions": len(ta),
            "test_gradcam_answer_objects": vqa_gradcam(
                model, test_x, tq, ts, torch.from_numpy(load(args.data, "test", "question_objects")), ta, test_boxes,
                tk, meta["questionKinds"],
            ),
        }
        out = os.path.join(args.out, "vqa")
        os.makedirs(out, exist_ok=True)
        path = os.path.join(out, "model.onnx")
        Q = meta["questionLength"]
        export(
            model, path, (torch.zeros(1, 3, *size), torch.ones(1, Q, dtype=torch.long)), ["image", "question"],
            "answer_logits", {"image": {0: "N"}, "question": {0: "N", 1: "Q"}, "answer_logits": {0: "N"}},
        )
        torch.save(model.state_dict(), os.path.join(os.path.dirname(args.data), "vqa.pt" if args.out == default_out else "vqa-trial.pt"))
        stats["onnx_bytes"] = os.path.getsize(path)
        stats["parameters"] = sum(p.numel() for p in model.parameters())
        stats["ops"], stats["recurrent"] = onnx_summary(path)
        stats["layer"] = attended_layer(path)
        pre = {
            **preprocess, "task": "vqa", "vocabulary": "vocab.txt", "answers": "answers.txt", "padding": "left",
            "tokenLength": Q, "layer": stats["layer"],
        }
        json.dump(pre, open(os.path.join(out, "preprocess.json"), "w"))
        write_text(os.path.join(out, "vocab.txt"), vocab)
        write_text(os.path.join(out, "answers.txt"), answers)
        results["vqa"] = stats
        log(json.dumps(stats, indent=1))

    for name, stats in results.items():
        out = os.path.join(args.out, name)
        with open(os.path.join(out, "metrics.json"), "w") as f:
            epochs = args.caption_epochs if name == "captioner" else args.vqa_epochs
            json.dump({"splits": meta["splits"], "epochs": epochs, **stats}, f, indent=2)
            f.write("\n")
        write_readme(out, name, stats, meta, epochs)


if __name__ == "__main__":
    main()
