"""PyTorch, measured in the same run as the library (tests/NotebookAttention.Benchmarks, PeerComparison.cs).

The benchmark starts this script with Debian's python3 (package python3-torch) and talks to it over stdin/stdout,
one JSON object per line each way, so that PyTorch is timed on this machine, in this run, in rounds that alternate
with the library's. Nothing is downloaded and nothing listens on a port.

Requests:
  {"op": "info", "threads": 2}                        torch version, threads, the BLAS library actually loaded
  {"op": "prepare", "id": ..., "kind": "attention", "n": 1024, "d": 64, "causal": false, "seed": 1}
  {"op": "prepare", "id": ..., "kind": "mha", "n": 1024, "d_model": 512, "heads": 8, "seed": 1}
                                                      builds the inputs and checks the fp32 result against fp64
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
    handlers = {"info": info, "prepare": prepare, "time": time_case, "release": release}
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
