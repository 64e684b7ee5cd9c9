#!/usr/bin/env python3
"""torch_reference.py: writes tests/torch_reference.txt, values computed by
PyTorch (Debian's python3-torch) that tests/test_conv.c holds clgan's
conv2d, conv_transpose2d and batch norm against, and the layer output shapes
of the DCGAN models at every supported size.

usage: /usr/bin/python3 tests/torch_reference.py > tests/torch_reference.txt

Format, one item per line:
  case KIND key=value ...      starts a case (conv2d, conv_transpose2d, batchnorm)
  NAME n v1 v2 ... vn          an array of float32 values (%.9g)
  shapes S C G|D d1xd2xd3 ...  output shapes [C,H,W] of the conv and linear layers
  end
"""
import sys

import torch
import torch.nn as nn

torch.manual_seed(20261204)
out = sys.stdout


def arr(name, t):
    v = t.detach().reshape(-1).tolist()
    out.write("%s %d %s\n" % (name, len(v), " ".join("%.9g" % x for x in v)))


def conv_case(kind, n, c, h, w, co, k, s, p, op, bias):
    x = torch.randn(n, c, h, w, requires_grad=True)
    if kind == "conv2d":
        m = nn.Conv2d(c, co, k, stride=s, padding=p, bias=bias)
    else:
        m = nn.ConvTranspose2d(c, co, k, stride=s, padding=p, output_padding=op, bias=bias)
    y = m(x)
    dy = torch.randn_like(y)
    y.backward(dy)
    out.write("case %s n=%d c=%d h=%d w=%d co=%d k=%d s=%d p=%d op=%d bias=%d\n"
              % (kind, n, c, h, w, co, k, s, p, op, int(bias)))
    arr("x", x)
    arr("w", m.weight)
    if bias:
        arr("b", m.bias)
    arr("dy", dy)
    arr("y", y)
    arr("dx", x.grad)
    arr("dw", m.weight.grad)
    if bias:
        arr("db", m.bias.grad)
    out.write("end\n")


def bn_case(n, c, h, w):
    flat = h == 0
    x = torch.randn(n, c, requires_grad=True) if flat else torch.randn(n, c, h, w, requires_grad=True)
    m = nn.BatchNorm1d(c) if flat else nn.BatchNorm2d(c)
    with torch.no_grad():
        m.weight.copy_(1.0 + 0.3 * torch.randn(c))
        m.bias.copy_(0.3 * torch.randn(c))
    g0, b0 = m.weight.detach().clone(), m.bias.detach().clone()
    m.train()
    y = m(x)
    dy = torch.randn_like(y)
    y.backward(dy)
    out.write("case batchnorm n=%d c=%d h=%d w=%d\n" % (n, c, max(h, 1), max(w, 1)))
    arr("x", x)
    arr("gamma", g0)
    arr("beta", b0)
    arr("dy", dy)
    arr("y", y)
    arr("dx", x.grad)
    arr("dgamma", m.weight.grad)
    arr("dbeta", m.bias.grad)
    arr("running_mean", m.running_mean)  # after one step, momentum 0.1
    arr("running_var", m.running_var)
    m.eval()
    arr("y_eval", m(x))
    out.write("end\n")


class Reshape(nn.Module):
    def __init__(self, *shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.view(x.size(0), *self.shape)


def dcgan28(nc, nz=100, ngf=64, ndf=64):
    # bench/gan_torch.py dcgan_models() (the TensorFlow tutorial's shapes)
    lr = lambda: nn.LeakyReLU(0.2)  # noqa: E731
    G = nn.Sequential(
        nn.Linear(nz, 7 * 7 * 4 * ngf, bias=False), nn.BatchNorm1d(7 * 7 * 4 * ngf), lr(),
        Reshape(4 * ngf, 7, 7),
        nn.ConvTranspose2d(4 * ngf, 2 * ngf, 5, stride=1, padding=2, bias=False), nn.BatchNorm2d(2 * ngf), lr(),
        nn.ConvTranspose2d(2 * ngf, ngf, 5, stride=2, padding=2, output_padding=1, bias=False),
        nn.BatchNorm2d(ngf), lr(),
        nn.ConvTranspose2d(ngf, nc, 5, stride=2, padding=2, output_padding=1, bias=False), nn.Tanh())
    D = nn.Sequential(
        nn.Conv2d(nc, ndf, 5, stride=2, padding=2), lr(),
        nn.Conv2d(ndf, 2 * ndf, 5, stride=2, padding=2), lr(),
        nn.Flatten(), nn.Linear(7 * 7 * 2 * ndf, 1))
    return G, D


def dcgan_examples(size, nc, nz=100, ngf=64, ndf=64):
    # the PyTorch examples' dcgan (64x64), one stage fewer at 32x32
    stages = 3 if size == 64 else 2
    g = [nn.ConvTranspose2d(nz, ngf << stages, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf << stages), nn.ReLU(True)]
    ch = ngf << stages
    for _ in range(stages):
        g += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU(True)]
        ch //= 2
    g += [nn.ConvTranspose2d(ch, nc, 4, 2, 1, bias=False), nn.Tanh()]
    d = [nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
    ch = ndf
    for _ in range(stages):
        d += [nn.Conv2d(ch, 2 * ch, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * ch), nn.LeakyReLU(0.2, inplace=True)]
        ch *= 2
    d += [nn.Conv2d(ch, 1, 4, 1, 0, bias=False)]
    return nn.Sequential(*g), nn.Sequential(*d)


def shapes(model, x):
    got = []
    hooks = [m.register_forward_hook(lambda m, i, o: got.append(tuple(o.shape[1:])))
             for m in model if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))]
    with torch.no_grad():
        model.eval()
        model(x)
    for h in hooks:
        h.remove()
    return " ".join("x".join(str(d) for d in (s + (1, 1))[:3]) for s in got)


conv_case("conv2d", 2, 3, 7, 6, 4, 3, 2, 1, 0, True)
conv_case("conv2d", 3, 2, 9, 9, 5, 5, 2, 2, 0, False)
conv_case("conv2d", 1, 4, 5, 8, 2, 4, 1, 0, 0, True)
conv_case("conv_transpose2d", 2, 3, 4, 5, 2, 4, 2, 1, 0, False)
conv_case("conv_transpose2d", 2, 4, 3, 3, 3, 5, 2, 2, 1, True)
conv_case("conv_transpose2d", 1, 2, 1, 1, 3, 4, 1, 0, 0, False)
bn_case(4, 3, 5, 6)
bn_case(7, 5, 0, 0)
for size in (28, 32, 64):
    for nc in (1, 3):
        G, D = dcgan28(nc) if size == 28 else dcgan_examples(size, nc)
        z = torch.randn(2, 100) if size == 28 else torch.randn(2, 100, 1, 1)
        out.write("shapes %d %d G %s\n" % (size, nc, shapes(G, z)))
        out.write("shapes %d %d D %s\n" % (size, nc, shapes(D, torch.randn(2, nc, size, size))))
