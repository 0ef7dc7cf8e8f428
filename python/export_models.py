#!/usr/bin/env python3
"""Export TorchScript models and a model.yaml for each into a Nexus model repository.

All weights are RANDOM (torch.manual_seed(0) before each model is built): no pretrained
weights can be downloaded where this runs. Outputs are therefore meaningless as predictions,
but shapes, costs and numerics are those of the real architectures, and exports are reproducible.

Repository layout written under --repo DIR:
  DIR/<name>/model.yaml          the entry (keys: name, file|prefix+head, input, maxBatch, outputs, preprocess)
  DIR/<name>/model.pt            TorchScript (torch.jit.trace, eval mode, CPU, fp32, not frozen)
  DIR/<head>/head.pt             for a prefix-family member: TorchScript of the head alone; its input is
                                 the first output of the entry named by `prefix:`
  DIR/_reference/<name>/         (skipped by the loader) input.f32, output.f32, meta.json: N samples, each
                                 run alone at batch 1 in eager fp32 on CPU; first output only; for a head,
                                 the output of the composed unshared model head(trunk(x))
  DIR/_reference/jpeg/           image.jpg (64x48), pixels.u8 (its PIL decode, HWC RGB), image32.jpg,
                                 pixels32.u8 (32x32), meta.json

Usage: python3 python/export_models.py --repo DIR [--set ci|demo|gpu|all] [--models a,b] [--reference N] [--force]
Works with torch 1.13/torchvision 0.14 and newer (only `weights=None` constructors are used).
"""
import argparse, json, os, sys, time
from dataclasses import dataclass, field
from typing import Callable, List, Optional

import numpy as np
import torch
import torch.nn as nn
import torchvision
from PIL import Image

IMAGENET = {"scale": 255, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
HALF = {"scale": 255, "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}
# torchvision's SSD300 transform: (pixel/255 - mean) / (1/255)
SSD = {"scale": 255, "mean": [0.48235, 0.45882, 0.40784], "std": [1 / 255.0] * 3}


@dataclass
class Spec:
    name: str
    sets: tuple
    build: Callable[[], nn.Module]
    input_shape: List[int]
    output_names: List[str]          # one per output tensor (dict outputs: in key order)
    max_batch: int
    preprocess: Optional[dict]       # None: raw tensors only (no JPEG/frame input)
    prefix: Optional[str] = None     # set for a head: the trunk whose first output feeds it
    trunk_out: List[int] = field(default_factory=list)  # the head's input shape (prefix output)


def tiny_cnn():
    return nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(1), nn.Linear(32 * 8 * 8, 10))


def tiny_trunk():
    return nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(1))


class TinyDetector(nn.Module):
    """A toy detector: 8 boxes (x1, y1, x2, y2, score), all in [0, 1], x1 <= x2 and y1 <= y2.

    The score logits get fixed biases, 5 of them >= 1.5 and 3 <= -2, and input-dependent weights much smaller
    than that, so for any reasonable input 5 scores are well above 0.5 and 3 well below (a two-stage
    application's crops, `scoreAbove: 0.5, max: 4`, are then never decided by rounding, and `max` truncates).
    """
    boxes = 8

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(),
                                      nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
                                      nn.AdaptiveAvgPool2d(2), nn.Flatten(1))
        self.head = nn.Linear(64, self.boxes * 5)
        with torch.no_grad():
            self.head.weight.mul_(8.0)  # boxes move with the input (scores barely: the biases dominate)
            bias = self.head.bias.view(self.boxes, 5)
            bias[:, :4].uniform_(-1.5, 1.5)
            scores = torch.tensor([-3.0, -2.5, -2.0, 1.5, 2.0, 2.5, 3.0, 3.5])
            bias[:, 4].copy_(scores[torch.randperm(self.boxes)])

    def forward(self, x):
        r = torch.sigmoid(self.head(self.features(x))).reshape(-1, self.boxes, 5)
        x1 = torch.minimum(r[:, :, 0], r[:, :, 2])
        x2 = torch.maximum(r[:, :, 0], r[:, :, 2])
        y1 = torch.minimum(r[:, :, 1], r[:, :, 3])
        y2 = torch.maximum(r[:, :, 1], r[:, :, 3])
        return torch.stack([x1, y1, x2, y2, r[:, :, 4]], dim=2)


class Identity(nn.Module):
    """x * 1.0: a model that costs (almost) nothing, to measure the engine's own overhead."""

    def forward(self, x):
        return x * 1.0


def resnet50_trunk():
    body = list(torchvision.models.resnet50(weights=None).children())[:-1]  # drop fc, keep avgpool
    return nn.Sequential(*body, nn.Flatten(1))


def ssd_backbone():
    from torchvision.models.detection import ssd300_vgg16
    return ssd300_vgg16(weights=None, weights_backbone=None).backbone


def registry():
    tv = torchvision.models
    ci, gpu, both = ("ci",), ("gpu",), ("ci", "gpu")
    demo = ("ci", "demo")  # demo/run.sh: a classifier, and a detector whose crops feed two heads on one trunk
    s32, s224 = [3, 32, 32], [3, 224, 224]
    t32 = dict(HALF, resize=[32, 32])
    i224 = dict(IMAGENET, resize=[224, 224])
    specs = [
        Spec("tiny_cnn", demo, tiny_cnn, s32, ["logits"], 256, t32),
        Spec("tiny_trunk", demo, tiny_trunk, s32, ["features"], 256, t32),
        Spec("tiny_cars", demo, lambda: nn.Linear(64, 10), s32, ["logits"], 256, t32, "tiny_trunk", [64]),
        Spec("tiny_faces", demo, lambda: nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 5)),
             s32, ["logits"], 256, t32, "tiny_trunk", [64]),
        Spec("tiny_detector", demo, TinyDetector, s32, ["boxes"], 256, t32),
        Spec("noop", ci, Identity, [16], ["output"], 1024, None),
        Spec("resnet18", both, lambda: tv.resnet18(weights=None), s224, ["logits"], 128, i224),
        Spec("resnet50", gpu, lambda: tv.resnet50(weights=None), s224, ["logits"], 128, i224),
        Spec("vgg16", gpu, lambda: tv.vgg16(weights=None), s224, ["logits"], 128, i224),
        Spec("ssd300_vgg16_backbone", gpu, ssd_backbone, [3, 300, 300],
             [f"feature_{i}" for i in range(6)], 128, dict(SSD, resize=[300, 300])),
        Spec("resnet50_trunk", gpu, resnet50_trunk, s224, ["features"], 128, i224),
    ]
    for head, classes in (("cars", 196), ("faces", 100), ("scenes", 365)):
        specs.append(Spec(f"resnet50_{head}", gpu, lambda c=classes: nn.Linear(2048, c), s224,
                          ["logits"], 128, i224, "resnet50_trunk", [2048]))
    return {s.name: s for s in specs}


REGISTRY = registry()


def build(spec: Spec) -> nn.Module:
    torch.manual_seed(0)
    return spec.build().eval()


def as_list(out):
    """The output tensors of a module, in order (a dict output in key order)."""
    if isinstance(out, torch.Tensor):
        return [out]
    return list(out.values()) if isinstance(out, dict) else list(out)


def flow(xs):
    return "[" + ", ".join(repr(x) for x in xs) + "]"  # floats: shortest round-trip form


def scalar(name):
    """A name as a YAML string: quoted where YAML would read it as null, a boolean or a number."""
    plain = name.lower() not in ("null", "~", "true", "false", "yes", "no", "on", "off", "y", "n")
    try:
        float(name)
        plain = False
    except ValueError:
        pass
    return name if plain else json.dumps(name)


def write_yaml(path, spec: Spec, out_shapes):
    io = lambda n, s: f"{{name: {scalar(n)}, dtype: FP32, shape: {flow(s)}}}"
    lines = ["# Exported by python/export_models.py with RANDOM weights (seed 0): "
             "no pretrained weights can be downloaded here.", f"name: {scalar(spec.name)}"]
    if spec.prefix:
        lines += [f"prefix: {scalar(spec.prefix)}", "head: head.pt"]
    else:
        lines += ["file: model.pt"]
    lines += [f"input: {io('input', spec.input_shape)}", f"maxBatch: {spec.max_batch}", "outputs:"]
    lines += [f"  - {io(n, s)}" for n, s in zip(spec.output_names, out_shapes)]
    p = spec.preprocess
    if p is not None:
        lines += ["preprocess:", f"  resize: {flow(p['resize'])}", f"  scale: {p['scale']!r}",
                  f"  mean: {flow(p['mean'])}", f"  std: {flow(p['std'])}"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def reference_inputs(shape, n):
    xs = []
    for i in range(n):
        torch.manual_seed(1234 + i)
        xs.append(torch.randn(1, *shape))
    return torch.cat(xs) if xs else torch.empty(0, *shape)


def reference_count(meta_path):
    if not os.path.exists(meta_path):
        return None
    with open(meta_path) as f:
        return json.load(f).get("count")


def write_f32(path, t: torch.Tensor):
    t.detach().contiguous().numpy().astype("<f4").tofile(path)


def export(spec: Spec, repo: str, n_ref: int, force: bool) -> bool:
    """Export one entry (and its reference data); returns False when a check failed."""
    mdir, rdir = os.path.join(repo, spec.name), os.path.join(repo, "_reference", spec.name)
    artifact = os.path.join(mdir, "head.pt" if spec.prefix else "model.pt")
    ref_meta = os.path.join(rdir, "meta.json")
    if not force and os.path.exists(artifact) and (n_ref == 0 or reference_count(ref_meta) == n_ref):
        print(f"{spec.name:24s} exists, skipped (use --force)")
        return True
    start = time.time()
    os.makedirs(mdir, exist_ok=True)
    module = build(spec)
    trunk = build(REGISTRY[spec.prefix]) if spec.prefix else None
    full = (lambda x: module(as_list(trunk(x))[0])) if trunk else module
    with torch.no_grad():
        example = torch.randn(2, *(spec.trunk_out or spec.input_shape))
        traced = torch.jit.trace(module, example, strict=False, check_trace=False)
        traced.save(artifact)
        out_shapes = [list(t.shape[1:]) for t in as_list(full(torch.zeros(1, *spec.input_shape)))]
    assert len(out_shapes) == len(spec.output_names), (spec.name, out_shapes)
    write_yaml(os.path.join(mdir, "model.yaml"), spec, out_shapes)
    note, ok = "", True
    if n_ref > 0:
        os.makedirs(rdir, exist_ok=True)
        xs = reference_inputs(spec.input_shape, n_ref)
        with torch.no_grad():
            ref = torch.cat([as_list(full(xs[i:i + 1]))[0] for i in range(n_ref)])
            # Check the saved TorchScript at batch N against the eager batch-1 reference.
            loaded = torch.jit.load(artifact)
            if spec.prefix:
                prefix = torch.jit.load(os.path.join(repo, spec.prefix, "model.pt"))
                got = as_list(loaded(as_list(prefix(xs))[0]))[0]
            else:
                got = as_list(loaded(xs))[0]
        write_f32(os.path.join(rdir, "input.f32"), xs)
        write_f32(os.path.join(rdir, "output.f32"), ref)
        with open(ref_meta, "w") as f:
            json.dump({"model": spec.name, "count": n_ref, "input_shape": spec.input_shape,
                       "output_shape": out_shapes[0], "outputs": len(out_shapes)}, f)
        diff = (got - ref).abs().max().item()
        ok = diff <= 1e-3 * max(1.0, ref.abs().max().item())
        note = f"  max|traced-eager| {diff:.2e}" + ("" if ok else "  MISMATCH")
    size = os.path.getsize(artifact)
    size_text = f"{size / 1e6:8.2f} MB" if size >= 1e6 else f"{size / 1e3:8.1f} kB"
    print(f"{spec.name:24s} {size_text} {time.time() - start:7.2f} s{note}", flush=True)
    return ok


def synthetic_rgb(width, height, seed):
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([255 * x / max(width - 1, 1), 255 * y / max(height - 1, 1),
                     255 * (x + y) / max(width + height - 2, 1)], axis=-1)
    noise = np.random.default_rng(seed).normal(0, 12, size=base.shape)
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def write_jpeg_fixture(repo):
    jdir = os.path.join(repo, "_reference", "jpeg")
    os.makedirs(jdir, exist_ok=True)
    for suffix, (w, h), seed in (("", (64, 48), 0), ("32", (32, 32), 1)):
        jpg = os.path.join(jdir, f"image{suffix}.jpg")
        Image.fromarray(synthetic_rgb(w, h, seed), "RGB").save(jpg, quality=90)
        pixels = np.asarray(Image.open(jpg).convert("RGB"))
        assert pixels.shape == (h, w, 3)
        np.ascontiguousarray(pixels, dtype=np.uint8).tofile(os.path.join(jdir, f"pixels{suffix}.u8"))
    with open(os.path.join(jdir, "meta.json"), "w") as f:
        json.dump({"width": 64, "height": 48}, f)


def select(set_name, models):
    """Names to export, in registry order; a head pulls in its prefix."""
    if models:
        wanted = [m.strip() for m in models.split(",") if m.strip()]
        unknown = [m for m in wanted if m not in REGISTRY]
        if unknown:
            sys.exit(f"unknown model(s): {', '.join(unknown)}; known: {', '.join(REGISTRY)}")
    else:
        wanted = [n for n, s in REGISTRY.items() if set_name == "all" or set_name in s.sets]
    wanted += [REGISTRY[n].prefix for n in wanted if REGISTRY[n].prefix]
    return [n for n in REGISTRY if n in wanted]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Models: " + ", ".join(
                                     f"{n} ({'/'.join(s.sets)})" for n, s in REGISTRY.items()))
    ap.add_argument("--repo", required=True, help="model repository directory to write")
    ap.add_argument("--set", default="ci", choices=["ci", "demo", "gpu", "all"],
                    help="model set (default ci; demo: the five tiny models demo/run.sh serves)")
    ap.add_argument("--models", help="comma-separated model names; overrides --set (heads pull in their prefix)")
    ap.add_argument("--reference", type=int, default=4, metavar="N",
                    help="reference samples per model under REPO/_reference (default 4; 0 disables)")
    ap.add_argument("--force", action="store_true", help="re-export models whose TorchScript exists")
    args = ap.parse_args()
    if args.reference < 0:
        ap.error("--reference must be >= 0")
    os.makedirs(args.repo, exist_ok=True)
    start, ok = time.time(), True
    for name in select(args.set, args.models):
        ok = export(REGISTRY[name], args.repo, args.reference, args.force) and ok
    if args.reference > 0:
        write_jpeg_fixture(args.repo)
    print(f"done in {time.time() - start:.1f} s -> {args.repo}")
    if not ok:
        sys.exit("some traced models do not reproduce their eager reference")


if __name__ == "__main__":
    main()
