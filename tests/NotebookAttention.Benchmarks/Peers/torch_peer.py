"""PyTorch, measured in the same run as the library (tests/NotebookAttention.Benchmarks, PeerComparison.cs).

The benchmark starts this script with Debian's python3 (package python3-torch) and talks to it over stdin/stdout,
one JSON object per line each way, so that PyTorch is timed on this machine, in this run, in rounds that alternate
with the library's. Nothing is downloaded and nothing listens on a port.

Requests:
  {"op": "info", "threads": 2}                        torch version, threads, the BLAS library actually loaded
  {"op": "prepare", "id": ..., "kind": "attention", "n": 1024, "d": 64, "causal": false, "seed": 1}
  {"op": "prepare", "id": ..., "kind": "mha", "n": 1024, "d_model": 512, "heads": 8, "seed": 1}
                                                      builds the inputs and checks the fp32 result against fp64
  {"op": "prepare_training", "id": ..., "model": "elman" | "lstm" | "transformer", "sizes": {...},
   "parameters": [[rows, cols, [row-major values]], ...], "batch": {"inputs": ..., "targets": ..., "lengths": ...},
   "adam": {"lr": ..., "beta1": ..., "beta2": ..., "eps": ...}}
                                                      builds the library's model in fp64 from its parameters, takes
                                                      one training step and returns the loss, the gradients and the
                                                      parameters after the step (library layouts) for the benchmark
                                                      to compare; later "time" calls time further steps
  {"op": "time", "id": ..., "reps": 3}                times `reps` calls, one wall-clock time each (ms)
  {"op": "release", "id": ...}                        frees the case
Every reply has "ok"; a failure replies {"ok": false, "error": "..."} and the script goes on.
"""

import json
import math
import os
import sys
import time

import torch

CASES = {}


def blas_library():
    """The BLAS shared object this process loaded (after one product), read from /proc/self/maps."""
    a = torch.ones(64, 64)
    (a @ a).sum().item()
    names = set()
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            for line in maps:
                path = line.split()[-1]
                if "blas" in path.lower() or "mkl" in path.lower():
                    names.add(os.path.realpath(path))
    except OSError:
        return "unknown (no /proc/self/maps)"
    return ", ".join(sorted(names)) or "none found"


def info(request):
    torch.set_num_threads(int(request.get("threads", 2)))
    cpu = getattr(torch.backends, "cpu", None)  # torch.backends.cpu.get_cpu_capability() came with PyTorch 2.0
    capability = getattr(cpu, "get_cpu_capability", None)
    return {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "blas": blas_library(),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
        "cpu_capability": capability() if capability else torch.__config__.show().split("CPU capability usage: ")[-1].split("\n")[0],
    }


def uniform(generator, *shape):
    """Uniform in [-1, 1), as the library's benchmark workload draws its inputs."""
    return torch.rand(*shape, generator=generator) * 2 - 1


def check_rows(n):
    """The query rows compared with fp64: all of them up to 1024, else 64 spread rows with the first and the last."""
    if n <= 1024:
        return list(range(n))
    return sorted({round(i * (n - 1) / 63) for i in range(64)})


def prepare_attention(request):
    n, d, causal = int(request["n"]), int(request["d"]), bool(request["causal"])
    generator = torch.Generator().manual_seed(int(request.get("seed", 1)))
    q, k, v = (uniform(generator, n, d) for _ in range(3))
    scale = 1 / math.sqrt(d)
    hidden = torch.ones(n, n, dtype=torch.bool).triu(1) if causal else None

    def run():
        scores = (q @ k.T) * scale
        if hidden is not None:
            scores.masked_fill_(hidden, float("-inf"))
        return torch.softmax(scores, dim=-1) @ v

    rows = check_rows(n)
    out = run()[rows].double()
    q64, k64, v64 = q.double(), k.double(), v.double()
    scores64 = (q64[rows] @ k64.T) * scale
    if hidden is not None:
        scores64.masked_fill_(hidden[rows], float("-inf"))
    expected = torch.softmax(scores64, dim=-1) @ v64
    return run, out, expected, len(rows)


def prepare_mha(request):
    n, width, heads = int(request["n"]), int(request["d_model"]), int(request["heads"])
    torch.manual_seed(int(request.get("seed", 1)))
    layer = torch.nn.MultiheadAttention(width, heads, batch_first=True).eval()
    generator = torch.Generator().manual_seed(int(request.get("seed", 1)))
    x = uniform(generator, 1, n, width)

    def run():
        with torch.no_grad():
            return layer(x, x, x, need_weights=False)[0]

    out = run().double()
    layer64 = torch.nn.MultiheadAttention(width, heads, batch_first=True).eval().double()
    layer64.load_state_dict({name: value.double() for name, value in layer.state_dict().items()})
    with torch.no_grad():
        expected = layer64(x.double(), x.double(), x.double(), need_weights=False)[0]
    return run, out, expected, n


def prepare(request):
    kind = request["kind"]
    builders = {"attention": prepare_attention, "mha": prepare_mha}
    if kind not in builders:
        raise ValueError(f"unknown kind {kind!r}: use one of {sorted(builders)}")
    run, out, expected, rows = builders[kind](request)
    error = (out - expected).abs().max().item()
    size = expected.abs().max().item()
    relative = error / size if size > 0 else error
    finite = bool(torch.isfinite(out).all().item())
    CASES[request["id"]] = run
    return {"max_error": error, "relative_error": relative, "checked_rows": rows, "finite": finite}


# --- One training step of the library's models (TrainingPeers.cs) -------------------------------------------------
#
# The benchmark sends the library model's initial parameters in the library's layouts ([in x out] weights, biases as
# [1 x out] rows, the LSTM's gates side by side in the order i, f, g, o) and one batch (padded token ids, targets with
# -1 where nothing is scored). Each parameter becomes a slot: a view of a PyTorch tensor, transposed where PyTorch
# stores [out x in]. A step is what a practitioner writes: zero_grad, the loss, backward, Adam's step.


class Slot:
    """One library parameter inside a PyTorch tensor: rows [start, stop) of `tensor`, transposed if PyTorch stores [out x in]."""

    def __init__(self, tensor, transpose, start=None, stop=None):
        self.tensor, self.transpose, self.start, self.stop = tensor, transpose, start, stop

    def view(self, data):
        """The library's [rows x cols] view of `data` (the tensor's values or its gradient); a 1-d bias is a [1 x n] row."""
        part = data if self.start is None else data[self.start:self.stop]
        if self.transpose:
            return part.t()
        return part if part.dim() == 2 else part.reshape(1, -1)

    def load(self, rows, cols, values):
        with torch.no_grad():
            self.view(self.tensor.data).copy_(torch.tensor(values, dtype=torch.float64).reshape(rows, cols))

    def read(self, data):
        return self.view(data).reshape(-1).tolist()


class RecurrentNet(torch.nn.Module):
    """Embedding, torch.nn.RNN (tanh) or torch.nn.LSTM, a readout at every position, as RecurrentModel.cs."""

    def __init__(self, cell, vocabulary, hidden, embedding):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocabulary, embedding)
        module = torch.nn.LSTM if cell == "lstm" else torch.nn.RNN
        self.cell = module(embedding, hidden, batch_first=True)
        self.readout = torch.nn.Linear(hidden, vocabulary)
        # The library has one bias per gate; PyTorch adds bias_ih and bias_hh. bias_hh stays 0 and frozen, so
        # b = bias_ih, and Adam moves only the library's parameters.
        with torch.no_grad():
            self.cell.bias_hh_l0.zero_()
        self.cell.bias_hh_l0.requires_grad_(False)

    def slots(self):
        return [Slot(self.embedding.weight, False), Slot(self.cell.weight_ih_l0, True), Slot(self.cell.weight_hh_l0, True),
                Slot(self.cell.bias_ih_l0, False), Slot(self.readout.weight, True), Slot(self.readout.bias, False)]

    def forward(self, ids, lengths):
        states, _ = self.cell(self.embedding(ids))   # padding is on the right: it cannot reach a real position
        return self.readout(states)


class Block(torch.nn.Module):
    """x + MHA(LN(x)), then h + FF(LN(h)) with FF = W_2 GELU_tanh(W_1 . + b_1) + b_2: TransformerModel.Reference.cs."""

    def __init__(self, width, heads, feed_forward):
        super().__init__()
        self.norm1 = torch.nn.LayerNorm(width, eps=1e-5)
        self.attention = torch.nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm2 = torch.nn.LayerNorm(width, eps=1e-5)
        self.first = torch.nn.Linear(width, feed_forward)
        self.second = torch.nn.Linear(feed_forward, width)

    def slots(self, width):
        a = self.attention
        return [Slot(self.norm1.weight, False), Slot(self.norm1.bias, False),
                Slot(a.in_proj_weight, True, 0, width), Slot(a.in_proj_bias, False, 0, width),
                Slot(a.in_proj_weight, True, width, 2 * width), Slot(a.in_proj_bias, False, width, 2 * width),
                Slot(a.in_proj_weight, True, 2 * width, 3 * width), Slot(a.in_proj_bias, False, 2 * width, 3 * width),
                Slot(a.out_proj.weight, True), Slot(a.out_proj.bias, False),
                Slot(self.norm2.weight, False), Slot(self.norm2.bias, False),
                Slot(self.first.weight, True), Slot(self.first.bias, False), Slot(self.second.weight, True), Slot(self.second.bias, False)]

    def forward(self, x, key_padding, real_queries):
        normed = self.norm1(x)
        attended = self.attention(normed, normed, normed, key_padding_mask=key_padding, need_weights=False)[0]
        if real_queries is not None:
            attended = attended * real_queries   # the library's padding queries attend to nothing: output 0, bias included
        h = x + attended
        return h + self.second(torch.nn.functional.gelu(self.first(self.norm2(h)), approximate="tanh"))


class TransformerNet(torch.nn.Module):
    """Token + learned position embeddings, pre-LN blocks, a final LayerNorm and a readout at every position."""

    def __init__(self, vocabulary, max_length, width, heads, feed_forward, layers):
        super().__init__()
        self.width = width
        self.token = torch.nn.Embedding(vocabulary, width)
        self.position = torch.nn.Embedding(max_length, width)
        self.blocks = torch.nn.ModuleList(Block(width, heads, feed_forward) for _ in range(layers))
        self.norm = torch.nn.LayerNorm(width, eps=1e-5)
        self.readout = torch.nn.Linear(width, vocabulary)

    def slots(self):
        slots = [Slot(self.token.weight, False), Slot(self.position.weight, False)]
        for block in self.blocks:
            slots += block.slots(self.width)
        return slots + [Slot(self.norm.weight, False), Slot(self.norm.bias, False), Slot(self.readout.weight, True), Slot(self.readout.bias, False)]

    def forward(self, ids, lengths):
        n = ids.shape[1]
        x = self.token(ids) + self.position.weight[:n]
        real = torch.arange(n).unsqueeze(0) < lengths.unsqueeze(1)          # [B x n]
        padded = not bool(real.all())
        key_padding = ~real if padded else None
        real_queries = real.unsqueeze(-1).to(x.dtype) if padded else None
        for block in self.blocks:
            x = block(x, key_padding, real_queries)
        return self.readout(self.norm(x))


def prepare_training(request):
    sizes = request["sizes"]
    model = request["model"]
    torch.set_default_dtype(torch.float64)
    try:
        if model in ("elman", "lstm"):
            net = RecurrentNet(model, int(sizes["vocabulary"]), int(sizes["hidden"]), int(sizes["embedding"]))
            modules = "torch.nn.Embedding, torch.nn.%s, torch.nn.Linear" % ("LSTM" if model == "lstm" else "RNN")
        elif model == "transformer":
            net = TransformerNet(int(sizes["vocabulary"]), int(sizes["max_length"]), int(sizes["d_model"]), int(sizes["heads"]),
                                 int(sizes["feed_forward"]), int(sizes["layers"]))
            modules = "torch.nn.Embedding, torch.nn.LayerNorm, torch.nn.MultiheadAttention, torch.nn.Linear, F.gelu(approximate='tanh')"
        else:
            raise ValueError(f"unknown model {model!r}: use elman, lstm or transformer")
    finally:
        torch.set_default_dtype(torch.float32)
    slots = net.slots()
    parameters = request["parameters"]
    if len(parameters) != len(slots):
        raise ValueError(f"the library sent {len(parameters)} parameters but the {model} has {len(slots)}")
    for slot, (rows, cols, values) in zip(slots, parameters):
        slot.load(int(rows), int(cols), values)
    batch = request["batch"]
    ids = torch.tensor(batch["inputs"], dtype=torch.long)
    targets = torch.tensor(batch["targets"], dtype=torch.long)
    lengths = torch.tensor(batch["lengths"], dtype=torch.long)
    adam = request["adam"]
    optimizer = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=float(adam["lr"]),
                                 betas=(float(adam["beta1"]), float(adam["beta2"])), eps=float(adam["eps"]))
    net.train()

    def step():
        optimizer.zero_grad()
        logits = net(ids, lengths)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-1)
        loss.backward()
        optimizer.step()
        return loss

    loss = step().item()
    gradients = [slot.read(slot.tensor.grad) for slot in slots]
    after = [slot.read(slot.tensor.data) for slot in slots]
    CASES[request["id"]] = step
    return {"loss": loss, "gradients": gradients, "parameters": after, "modules": modules}


def time_case(request):
    run = CASES[request["id"]]
    times = []
    for _ in range(int(request.get("reps", 3))):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1e3)
    return {"ms": times}


def release(request):
    CASES.pop(request["id"], None)
    return {}


def main():
    handlers = {"info": info, "prepare": prepare, "prepare_training": prepare_training, "time": time_case, "release": release}
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            reply = handlers[request["op"]](request)
            reply["ok"] = True
        except Exception as error:  # every failure goes back to the benchmark as a message, never a dead pipe
            reply = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
