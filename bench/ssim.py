#!/usr/bin/env python3
"""SSIM (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5, C1 = 0.01², C2 = 0.03², on [0, 1]
RGB, the mean over channels and pixels) between two images of one size: prints it to 4 places.
usage: bench/ssim.py A.png B.png   (Debian's python3-torch, python3-pil, python3-numpy)"""
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def load(path):
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(rgb).permute(2, 0, 1)[None]


def ssim(a, b):
    g = torch.exp(-((torch.arange(11) - 5.0) ** 2) / (2 * 1.5**2))
    g = g / g.sum()
    window = (g[:, None] * g[None, :])[None, None].repeat(3, 1, 1, 1)
    blur = lambda x: F.conv2d(x, window, groups=3)
    mu_a, mu_b = blur(a), blur(b)
    var_a, var_b = blur(a * a) - mu_a**2, blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    c1, c2 = 0.01**2, 0.03**2
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return s.mean().item()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    a, b = load(sys.argv[1]), load(sys.argv[2])
    if a.shape != b.shape:
        sys.exit(f"ssim.py: sizes differ: {tuple(a.shape[2:])} vs {tuple(b.shape[2:])}")
    print(f"{ssim(a, b):.4f}")
