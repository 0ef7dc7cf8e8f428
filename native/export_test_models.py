"""Exports the TorchScript models test_nexus_torch.c runs, with random (seeded) weights: no downloads.

    python3 native/export_test_models.py OUT_DIR

resnet18.pt    torchvision ResNet-18, [N, 3, 224, 224] -> logits [N, 1000]
trunk.pt       its convolutional trunk, returning a dict {"features": [N, 512, 7, 7], "pooled": [N, 512]}
head.pt        its avgpool + fc, [N, 512, 7, 7] -> logits: head(trunk(x)["features"]) == resnet18(x)
tuple.pt       a model returning a nested tuple/list, to check output flattening order
input.bin      one fp32 [1, 3, 224, 224] sample, and expected.bin: resnet18.pt's fp32 logits for it in Python
"""
import os
import sys
from typing import Dict, List, Tuple

import torch
import torchvision


class Trunk(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.stem = torch.nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool)
        self.layers = torch.nn.Sequential(net.layer1, net.layer2, net.layer3, net.layer4)

    def forward(self, x) -> Dict[str, torch.Tensor]:
        features = self.layers(self.stem(x))
        return {"features": features, "pooled": features.mean(dim=(2, 3))}


class Head(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.avgpool = net.avgpool
        self.fc = net.fc

    def forward(self, features):
        return self.fc(torch.flatten(self.avgpool(features), 1))


class Nested(torch.nn.Module):
    def forward(self, x) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        flat = x.flatten(1)
        return flat.sum(dim=1), [flat * 2.0, flat.max(dim=1).values.to(torch.int64)]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    net = torchvision.models.resnet18(num_classes=1000).eval()
    # Random BatchNorm statistics, so eval-mode BN is not the identity and the check is not trivial.
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    torch.jit.script(net).save(os.path.join(out, "resnet18.pt"))
    torch.jit.script(Trunk(net).eval()).save(os.path.join(out, "trunk.pt"))
    torch.jit.script(Head(net).eval()).save(os.path.join(out, "head.pt"))
    torch.jit.script(Nested().eval()).save(os.path.join(out, "tuple.pt"))
    sample = torch.rand(1, 3, 224, 224)
    sample.numpy().tofile(os.path.join(out, "input.bin"))
    with torch.no_grad():
        net(sample).numpy().tofile(os.path.join(out, "expected.bin"))
    print(f"exported test models to {out} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
