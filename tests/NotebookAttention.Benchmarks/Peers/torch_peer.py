"""PyTorch, measured in the same run as the library (tests/NotebookAttention.Benchmarks, PeerComparison.cs).

The benchmark starts this script with Debian's python3 (package python3-torch) and talks to it over stdin/stdout,
one JSON object per line each way, so that PyTorch is timed on this machine, in this run, in rounds that alternate
with the library's. Nothing is downloaded and nothing listens on a port.

Requests:
  {"op": "info"}                                      torch version, CPU capability, the BLAS library actually loaded
                                                      (OpenBLAS's core, config and threads) and the environment
                                                      that steers them (allocator, OPENBLAS_*, ATEN_CPU_CAPABILITY)
  {"op": "prepare", "id": ..., "kind": "attention", "n": 1024, "d": 64, "causal": false, "seed": 1}
  {"op": "prepare", "id": ..., "kind": "mha", "n": 1024, "d_model": 512, "heads": 8, "seed": 1}
                                                      builds the inputs and checks every variant's fp32 result
                                                      against fp64 (attention: "as written" and "blocked in place")
  {"op": "prepare_training", "id": ..., "model": "elman" | "lstm" | "transformer", "sizes": {...},
   "parameters": [[rows, cols, [row-major values]], ...], "batch": {"inputs": ..., "targets": ..., "lengths": ...},
   "adam": {"lr": ..., "beta1": ..., "beta2": ..., "eps": ...}}
                                                      builds the library's model in fp64 from its parameters, takes
                                                      one training step and returns the loss, the gradients and the
                                                      parameters after the step (library layouts) for the benchmark
                                                      to compare; later "time" calls time further steps
  {"op": "time", "id": ..., "variant": ..., "threads": 1, "reps": 3}
                                                      sets both thread pools (PyTorch's and OpenBLAS's) to `threads`,
                                                      then times `reps` calls of the variant, one wall-clock time each (ms)
  {"op": "release", "id": ...}                        frees the case
Every reply has "ok"; a failure replies {"ok": false, "error": "..."} and the script goes on. A number that is not
finite (NaN, infinity) is sent as null: JSON has no literal for it.
"""

import ctypes
import json
import math
import os
import sys
import time

import torch

CASES = {}


def blas_libraries():
    """The BLAS shared objects this process loaded (after one product), read from /proc/self/maps."""
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
        return []
    return sorted(names)


def load_openblas():
    """OpenBLAS as loaded by torch (ctypes on the same file finds the same library), or None for another BLAS."""
    for path in blas_libraries():
        try:
            library = ctypes.CDLL(path)
            library.openblas_get_corename.restype = ctypes.c_char_p
            library.openblas_get_config.restype = ctypes.c_char_p
            return library
        except (OSError, AttributeError):
            continue
    return None


OPENBLAS = load_openblas()

# What steers PyTorch's speed from outside: the allocator (glibc's mmap threshold), OpenBLAS, PyTorch's kernel choice.
ENVIRONMENT = ["MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_ARENA_MAX", "LD_PRELOAD", "ATEN_CPU_CAPABILITY", "OMP_NUM_THREADS",
               "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE"]


def set_threads(threads):
    """Both pools: torch.set_num_threads reaches PyTorch's OpenMP team but not OpenBLAS's own pthread pool."""
    torch.set_num_threads(threads)
    if OPENBLAS is not None:
        OPENBLAS.openblas_set_num_threads(threads)


def info(request):
    reply = {
        "torch": torch.__version__,
        # torch.backends.cpu.get_cpu_capability() came with PyTorch 2.0; 1.13 prints it in its config
        "cpu_capability": torch.__config__.show().split("CPU capability usage: ")[-1].split("\n")[0],
        "blas": ", ".join(blas_libraries()) or "none found",
        "environment": {name: os.environ.get(name) for name in ENVIRONMENT},
        "torch_threads": torch.get_num_threads(),
    }
    if OPENBLAS is not None:
        reply["openblas"] = {
            "corename": OPENBLAS.openblas_get_corename().decode(),
            "config": OPENBLAS.openblas_get_config().decode(),
            "threads": OPENBLAS.openblas_get_num_threads(),
            "parallel": ["sequential", "pthreads", "OpenMP"][OPENBLAS.openblas_get_parallel()],
        }
    return reply


def uniform(generator, *shape):
    """Uniform in [-1, 1), as the library's benchmark workload draws its inputs."""
    return torch.rand(*shape, generator=generator) * 2 - 1


def check_rows(n):
    """The query rows compared with fp64: all of them up to 1024, else 64 spread rows with the first and the last."""
    if n <= 1024:
        return list(range(n))
    return sorted({round(i * (n - 1) / 63) for i in range(64)})


def prepare_attention(request):
    """Two exact ways to write softmax(q k^T / sqrt(d)) v in PyTorch 1.13 (it has no fused attention on CPU):

    "as written": three n x n temporaries per call (scores, scaled, softmax), the way the formula reads.
    "blocked in place": q pre-scaled, then 256 query rows at a time into one score buffer allocated here (as the
    library's output is allocated once), exp in place and the division on the [rows x d] output; a causal block
    reads only keys k[:i + rows], so PyTorch too skips the upper triangle.
    "As written" is left out above n = 4096, as the library's materialized path is: its temporaries are 3 GiB at
    n = 16,384, and glibc, kept from returning memory to the system (see PeerComparison.cs), then holds several times that.
    """
    n, d, causal = int(request["n"]), int(request["d"]), bool(request["causal"])
    generator = torch.Generator().manual_seed(int(request.get("seed", 1)))
    q, k, v = (uniform(generator, n, d) for _ in range(3))
    scale = 1 / math.sqrt(d)
    hidden = torch.ones(n, n, dtype=torch.bool).triu(1) if causal else None

    def as_written():
        scores = (q @ k.T) * scale
        if hidden is not None:
            scores.masked_fill_(hidden, float("-inf"))
        return torch.softmax(scores, dim=-1) @ v

    block = min(256, n)
    scaled, out = torch.empty(n, d), torch.empty(n, d)
    scores = torch.empty(block * n)                       # one block of score rows, reused by every block
    above = torch.ones(block, block, dtype=torch.bool).triu(1)

    def blocked_in_place():
        torch.mul(q, scale, out=scaled)
        for i in range(0, n, block):
            rows = min(block, n - i)
            keys = i + rows if causal else n
            s = scores[:rows * keys].view(rows, keys)     # contiguous, so mm writes into it directly
            torch.mm(scaled[i:i + rows], k[:keys].t(), out=s)
            if causal:
                s[:, i:keys].masked_fill_(above[:rows, :rows], float("-inf"))
            s.sub_(s.amax(-1, keepdim=True)).exp_()
            torch.mm(s, v[:keys], out=out[i:i + rows])
            out[i:i + rows].div_(s.sum(-1, keepdim=True))
        return out

    rows = check_rows(n)
    q64, k64, v64 = q.double(), k.double(), v.double()
    scores64 = (q64[rows] @ k64.T) * scale
    if hidden is not None:
        scores64.masked_fill_(hidden[rows], float("-inf"))
    expected = torch.softmax(scores64, dim=-1) @ v64
    variants = {"as written": as_written, "blocked in place": blocked_in_place} if n <= 4096 else {"blocked in place": blocked_in_place}
    return variants, {name: run()[rows].double() for name, run in variants.items()}, expected, len(rows)


def prepare_mha(request):
    n, width, heads = int(request["n"]), int(request["d_model"]), int(request["heads"])
    torch.manual_seed(int(request.get("seed", 1)))
    layer = torch.nn.MultiheadAttention(width, heads, batch_first=True).eval()
    generator = torch.Generator().manual_seed(int(request.get("seed", 1)))
    x = uniform(generator, 1, n, width)

    def run():
        with torch.no_grad():
            return layer(x, x, x, need_weights=False)[0]

    variants = {"nn.MultiheadAttention": run}
    outputs = {"nn.MultiheadAttention": run().double()}
    layer64 = torch.nn.MultiheadAttention(width, heads, batch_first=True).eval().double()
    layer64.load_state_dict({name: value.double() for name, value in layer.state_dict().items()})
    with torch.no_grad():
        expected = layer64(x.double(), x.double(), x.double(), need_weights=False)[0]
    return variants, outputs, expected, n


def finite_or_none(value):
    return value if math.isfinite(value) else None


def prepare(request):
    kind = request["kind"]
    builders = {"attention": prepare_attention, "mha": prepare_mha}
    if kind not in builders:
        raise ValueError(f"unknown kind {kind!r}: use one of {sorted(builders)}")
    variants, outputs, expected, rows = builders[kind](request)
    size = expected.abs().max().item()
    checks = {}
    for name, out in outputs.items():
        error = (out - expected).abs().max().item()
        checks[name] = {"relative_error": finite_or_none(error / size if size > 0 else error),
                        "finite": bool(torch.isfinite(out).all().item())}
    CASES[request["id"]] = variants
    return {"variants": checks, "checked_rows": rows}


# --- One training step of the library's models (TrainingPeers.cs) -------------------------------------------------
#
# The benchmark sends the library model's initial parameters in the library's layouts ([in x out] weights, biases as
# [1 x out] rows, the LSTM's gates side by side in the order i, f, g, o) and one batch (padded token ids, targets with
# -1 where nothing is scored). Each parameter becomes a slot: a view of a PyTorch tensor, transposed where PyTorch
# stores [out x in]. A step is what a practitioner writes for 1.13 on a CPU: zero_grad(set_to_none=True), the readout
# and the loss at the scored positions only, backward, Adam's step with foreach=True (one multi-tensor update, not a
# Python loop over the parameters); the masks are built once, with the batch.


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

    def forward(self, ids, scored, masks):
        states, _ = self.cell(self.embedding(ids))   # padding is on the right: it cannot reach a real position
        return self.readout(states[scored])          # logits of the scored positions only


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

    @staticmethod
    def masks(lengths, n):
        """(key_padding [B x n], real_queries [B x n x 1]) for a padded batch, (None, None) when nothing is padded."""
        real = torch.arange(n).unsqueeze(0) < lengths.unsqueeze(1)          # [B x n]
        if bool(real.all()):
            return None, None
        return ~real, real.unsqueeze(-1).to(torch.float64)

    def forward(self, ids, scored, masks):
        x = self.token(ids) + self.position.weight[:ids.shape[1]]
        for block in self.blocks:
            x = block(x, *masks)
        return self.readout(self.norm(x)[scored])    # LayerNorm is per position: normalizing then indexing is the same


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
    scored = targets >= 0
    scored_targets = targets[scored]
    masks = TransformerNet.masks(lengths, ids.shape[1]) if model == "transformer" else (None, None)
    adam = request["adam"]
    optimizer = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=float(adam["lr"]),
                                 betas=(float(adam["beta1"]), float(adam["beta2"])), eps=float(adam["eps"]), foreach=True)
    net.train()

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(net(ids, scored, masks), scored_targets)
        loss.backward()
        optimizer.step()
        return loss

    loss = step().item()
    gradients = [finite_list(slot.read(slot.tensor.grad)) for slot in slots]
    after = [finite_list(slot.read(slot.tensor.data)) for slot in slots]
    CASES[request["id"]] = {"step": step}
    return {"loss": finite_or_none(loss), "gradients": gradients, "parameters": after, "modules": modules, "variants": {"step": {}}}


def finite_list(values):
    return [finite_or_none(value) for value in values]


def time_case(request):
    run = CASES[request["id"]][request["variant"]]
    set_threads(int(request["threads"]))
    times = []
    for _ in range(int(request.get("reps", 3))):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1e3)
    return {"ms": times, "threads": torch.get_num_threads(), "openblas_threads": OPENBLAS.openblas_get_num_threads() if OPENBLAS else None}


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
        try:
            text = json.dumps(reply, allow_nan=False)
        except ValueError as error:  # a NaN or infinity that was not mapped to None: a failure, not a bare NaN literal
            text = json.dumps({"ok": False, "error": f"unencodable reply: {error}"})
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
