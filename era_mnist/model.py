"""The networks of the step series, one plain ``nn.Module`` per architecture.

Each layer's comment gives its output size (channels x height x width for a 28x28 input)
and its receptive field (RF) in input pixels. The step table (``era_mnist.steps``) names which
network each step builds (``steps.build(step)``); this module imports nothing of the package.
Steps 4-5 and 7-10 share a class whose ``dropout`` argument is the step's change; steps
8, 9 and 10 share one network and change how it is trained.
"""
import torch.nn as nn
import torch.nn.functional as F


class SetupNet(nn.Module):
    """Step 1: the heavy first working network (6,379,786 parameters)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)      # 32x28x28, RF 3
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)     # 64x28x28, RF 5
        self.pool1 = nn.MaxPool2d(2)                     # 64x14x14, RF 6
        self.conv3 = nn.Conv2d(64, 128, 3, padding=1)    # 128x14x14, RF 10
        self.conv4 = nn.Conv2d(128, 256, 3, padding=1)   # 256x14x14, RF 14
        self.pool2 = nn.MaxPool2d(2)                     # 256x7x7, RF 16
        self.conv5 = nn.Conv2d(256, 512, 3)              # 512x5x5, RF 24
        self.conv6 = nn.Conv2d(512, 1024, 3)             # 1024x3x3, RF 32
        self.conv7 = nn.Conv2d(1024, 10, 3)              # 10x1x1, RF 40

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = self.pool1(F.relu(self.conv2(x)))
        x = F.relu(self.conv3(x))
        x = self.pool2(F.relu(self.conv4(x)))
        x = F.relu(self.conv5(x))
        x = F.relu(self.conv6(x))
        x = self.conv7(x)
        return F.log_softmax(x.flatten(1), dim=1)


class Skeleton(nn.Module):
    """The data path of steps 2-6: three 3x3 convs, a max-pool, a 1x1 transition, two 3x3 convs
    and a 1x1, then the head. The steps' classes below only choose its layers."""

    def features(self, x):
        x = self.conv1(x)
        x = self.conv2(x)
        x = self.conv3(x)
        x = self.pool(x)
        x = self.trans(x)
        x = self.conv4(x)
        x = self.conv5(x)
        x = self.conv6(x)
        return x

    def forward(self, x):
        x = self.features(x)
        x = self.head(x)
        return F.log_softmax(x.flatten(1), dim=1)


def conv_relu(c_in, c_out, k=3):
    """Conv (no bias) -> ReLU, the layer of steps 2-3."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, k, bias=False), nn.ReLU())


class SkeletonNet(Skeleton):
    """Step 2: a skeleton to slim down (steps 3-6 build on it, step 7 rearranges it): two 3x3
    blocks, a 1x1 transition, a 7x7 head.
    Its channels are ``widths`` (step 3 makes them fewer); the sizes below are step 2's."""

    def __init__(self, widths=(32, 64, 128, 32, 64, 128)):
        super().__init__()
        a, b, c, d, e, f = widths
        self.conv1 = conv_relu(1, a)                  # 32x26x26, RF 3
        self.conv2 = conv_relu(a, b)                  # 64x24x24, RF 5
        self.conv3 = conv_relu(b, c)                  # 128x22x22, RF 7
        self.pool = nn.MaxPool2d(2)                   # 128x11x11, RF 8
        self.trans = conv_relu(c, d, 1)               # 32x11x11, RF 8
        self.conv4 = conv_relu(d, e)                  # 64x9x9, RF 12
        self.conv5 = conv_relu(e, f)                  # 128x7x7, RF 16
        self.conv6 = conv_relu(f, 10, 1)              # 10x7x7, RF 16
        self.head = nn.Conv2d(10, 10, 7, bias=False)  # 10x1x1, RF 28


class LightNet(SkeletonNet):
    """Step 3: step 2's skeleton with 10-20 channels (10,790 parameters)."""

    def __init__(self):
        super().__init__(widths=(10, 10, 20, 10, 10, 20))


def conv_bn_relu(c_in, c_out, k=3, dropout=0.0):
    """Conv (no bias) -> BatchNorm -> ReLU, then Dropout when ``dropout`` > 0 (steps 4-6)."""
    layers = [nn.Conv2d(c_in, c_out, k, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class BatchNormNet(Skeleton):
    """Step 4: step 3 with BatchNorm after every convolution but the last (10,970 parameters).

    Step 5 is the same network with ``dropout=0.1`` after the 3rd and the 6th convolution.
    """

    def __init__(self, dropout=0.0):
        super().__init__()
        self.conv1 = conv_bn_relu(1, 10)                     # 10x26x26, RF 3
        self.conv2 = conv_bn_relu(10, 10)                    # 10x24x24, RF 5
        self.conv3 = conv_bn_relu(10, 20, dropout=dropout)   # 20x22x22, RF 7
        self.pool = nn.MaxPool2d(2)                          # 20x11x11, RF 8
        self.trans = conv_bn_relu(20, 10, 1)                 # 10x11x11, RF 8
        self.conv4 = conv_bn_relu(10, 10)                    # 10x9x9, RF 12
        self.conv5 = conv_bn_relu(10, 20, dropout=dropout)   # 20x7x7, RF 16
        self.conv6 = conv_bn_relu(20, 10, 1)                 # 10x7x7, RF 16
        self.head = nn.Conv2d(10, 10, 7, bias=False)         # 10x1x1, RF 28


class GapNet(BatchNormNet):
    """Step 6: step 5 with the 7x7 head replaced by global average pooling (6,070 parameters)."""

    def __init__(self, dropout=0.0):
        super().__init__(dropout)
        del self.head                                        # the 4,900 weights of the 7x7 conv
        self.gap = nn.AvgPool2d(7)                           # 10x1x1, RF 28

    def forward(self, x):
        x = self.features(x)
        x = self.gap(x)
        return F.log_softmax(x.flatten(1), dim=1)


def conv_relu_bn(c_in, c_out, k=3, relu=True, dropout=0.0, padding=0):
    """Conv (no bias) -> ReLU -> BatchNorm, the reference's order from step 7 on; ReLU and
    Dropout only where asked."""
    layers = [nn.Conv2d(c_in, c_out, k, padding=padding, bias=False)]
    layers += [nn.ReLU()] if relu else []
    layers.append(nn.BatchNorm2d(c_out))
    layers += [nn.Dropout(dropout)] if dropout else []
    return nn.Sequential(*layers)


class CapacityNet(nn.Module):
    """Steps 7-10: four 3x3 convs before the pool, three after, GAP and a 1x1 head (7,884 parameters).

    As in the reference, ReLU comes before BatchNorm, and the 4th and 7th convolutions, the
    transition and the head have no ReLU. Step 7 has dropout after the 3rd and the 6th
    convolution (``dropout=0.1``); steps 8-10 drop it (``dropout=0``), the series' final net.
    """

    def __init__(self, dropout=0.0):
        super().__init__()
        self.conv1 = conv_relu_bn(1, 10)                        # 10x26x26, RF 3
        self.conv2 = conv_relu_bn(10, 10)                       # 10x24x24, RF 5
        self.conv3 = conv_relu_bn(10, 10, dropout=dropout)      # 10x22x22, RF 7
        self.conv4 = conv_relu_bn(10, 10, relu=False)           # 10x20x20, RF 9
        self.trans = conv_relu_bn(10, 10, 1, relu=False)        # 10x20x20, RF 9
        self.pool = nn.MaxPool2d(2)                             # 10x10x10, RF 10
        self.conv5 = conv_relu_bn(10, 14)                       # 14x8x8, RF 14
        self.conv6 = conv_relu_bn(14, 14, dropout=dropout)      # 14x6x6, RF 18
        self.conv7 = conv_relu_bn(14, 13, relu=False)           # 13x4x4, RF 22
        self.gap = nn.AdaptiveAvgPool2d(1)                      # 13x1x1, RF 28
        self.head = conv_relu_bn(13, 10, 1, relu=False)         # 10x1x1, RF 28

    def forward(self, x):
        x = self.conv1(x)
        x = self.conv2(x)
        x = self.conv3(x)
        x = self.conv4(x)
        x = self.trans(x)
        x = self.pool(x)
        x = self.conv5(x)
        x = self.conv6(x)
        x = self.conv7(x)
        x = self.gap(x)
        x = self.head(x)
        return F.log_softmax(x.flatten(1), dim=1)


class CapacityAblation(nn.Module):
    """Step 7's network with some of its changes to step 6 undone, for the ablation
    (``era_mnist.ablation``); with every flag at its default it is ``CapacityNet``, layer for layer.

    ``head=False``: no 1x1 after the GAP, the last conv gives the 10 logits (step 6's way);
    ``relu_first=False``: BatchNorm before ReLU (steps 4-6); ``linear=False``: the 4th and 7th
    convs, the transition and the head get their ReLU back; ``deep=False``: no 4th and 7th conv
    (three convs before the pool, two after, as step 6); ``trans_first=False``: the max-pool
    before the transition 1x1 (step 6's order). The sizes below are the defaults'.
    """

    def __init__(self, dropout=0.0, head=True, relu_first=True, linear=True, deep=True, trans_first=True):
        super().__init__()

        def block(c_in, c_out, k=3, relu=True, dropout=0.0):
            relu = relu or not linear
            bn, act = nn.BatchNorm2d(c_out), [nn.ReLU()] if relu else []
            layers = [nn.Conv2d(c_in, c_out, k, bias=False), *(act + [bn] if relu_first else [bn] + act)]
            return nn.Sequential(*layers, *([nn.Dropout(dropout)] if dropout else []))

        late = 14 if head else 10                                   # the last conv's channels
        self.deep, self.trans_first = deep, trans_first
        self.conv1 = block(1, 10)                                   # 10x26x26, RF 3
        self.conv2 = block(10, 10)                                  # 10x24x24, RF 5
        self.conv3 = block(10, 10, dropout=dropout)                 # 10x22x22, RF 7
        if deep:
            self.conv4 = block(10, 10, relu=False)                  # 10x20x20, RF 9
        self.trans = block(10, 10, 1, relu=False)                   # 10x20x20, RF 9
        self.pool = nn.MaxPool2d(2)                                 # 10x10x10, RF 10
        self.conv5 = block(10, 14)                                  # 14x8x8, RF 14
        self.conv6 = block(14, 14 if deep else late, dropout=dropout)  # 14x6x6, RF 18
        if deep:
            self.conv7 = block(14, 13 if head else 10, relu=False)  # 13x4x4, RF 22
        self.gap = nn.AdaptiveAvgPool2d(1)                          # 13x1x1, RF 28
        if head:
            self.head = block(13 if deep else 14, 10, 1, relu=False)  # 10x1x1, RF 28

    def forward(self, x):
        x = self.conv3(self.conv2(self.conv1(x)))
        if self.deep:
            x = self.conv4(x)
        x = self.pool(self.trans(x)) if self.trans_first else self.trans(self.pool(x))
        x = self.conv6(self.conv5(x))
        if self.deep:
            x = self.conv7(x)
        x = self.gap(x)
        if hasattr(self, "head"):
            x = self.head(x)
        return F.log_softmax(x.flatten(1), dim=1)


def separable_relu_bn(c_in, c_out, relu=True):
    """A depthwise-separable 3x3: one 3x3 filter per input channel, then a 1x1 that mixes them
    (9*c_in + c_in*c_out weights instead of 9*c_in*c_out); ReLU and BatchNorm as conv_relu_bn."""
    layers = [nn.Conv2d(c_in, c_in, 3, groups=c_in, bias=False), nn.Conv2d(c_in, c_out, 1, bias=False)]
    layers += [nn.ReLU()] if relu else []
    layers.append(nn.BatchNorm2d(c_out))
    return nn.Sequential(*layers)


class SlimNet(nn.Module):
    """Step 11: three 3x3 convs of ``c1`` channels before the pool, three of ``c2`` after, GAP and
    a 1x1 head, no transition 1x1 (6,052 parameters with the defaults, the widths step 11's
    search ended with); with ``separable`` the three convs after the pool are depthwise-separable;
    with ``relu_last`` the last conv has a ReLU too, so the head is not folded into it; with
    ``padded`` the convs before the pool keep 28x28, so the late block works on 14x14 (12, 10, 8
    after its convs): the same weights, about 1.6 times the arithmetic; with ``deep`` a fourth conv
    after the pool leaves 3x3 for the GAP: depth instead of width.
    The sizes below are unpadded, in channels ``c1`` and ``c2`` (8 and 14 by default).
    """

    def __init__(self, c1=8, c2=14, separable=False, relu_last=False, padded=False, deep=False):
        super().__init__()
        late = separable_relu_bn if separable else conv_relu_bn
        pad, self.deep = int(padded), deep
        self.conv1 = conv_relu_bn(1, c1, padding=pad)    # c1x26x26, RF 3
        self.conv2 = conv_relu_bn(c1, c1, padding=pad)   # c1x24x24, RF 5
        self.conv3 = conv_relu_bn(c1, c1, padding=pad)   # c1x22x22, RF 7
        self.pool = nn.MaxPool2d(2)                      # c1x11x11, RF 8
        self.conv4 = late(c1, c2)                        # c2x9x9, RF 12
        self.conv5 = late(c2, c2)                        # c2x7x7, RF 16
        self.conv6 = late(c2, c2, relu=relu_last or deep)  # c2x5x5, RF 20
        if deep:
            self.conv7 = late(c2, c2, relu=relu_last)    # c2x3x3, RF 24
        self.gap = nn.AdaptiveAvgPool2d(1)               # c2x1x1, RF 28
        self.head = conv_relu_bn(c2, 10, 1, relu=False)  # 10x1x1, RF 28

    def forward(self, x):
        x = self.conv1(x)
        x = self.conv2(x)
        x = self.conv3(x)
        x = self.pool(x)
        x = self.conv4(x)
        x = self.conv5(x)
        x = self.conv6(x)
        if self.deep:
            x = self.conv7(x)
        x = self.gap(x)
        x = self.head(x)
        return F.log_softmax(x.flatten(1), dim=1)


class PoolNet(nn.Module):
    """Three blocks of three padded 3x3 convs (``c1``, ``c2``, ``c3`` channels) at 28x28, 14x14
    and 7x7 with a max-pool between them, GAP and a 1x1 head: the shape of the smallest published
    nets. Every conv has its ReLU, so the head is not folded into the layer before it. The sizes
    below are for the default widths (4,526 parameters).
    """

    def __init__(self, c1=4, c2=8, c3=10):
        super().__init__()
        self.conv1 = conv_relu_bn(1, c1, padding=1)      # 4x28x28, RF 3
        self.conv2 = conv_relu_bn(c1, c1, padding=1)     # 4x28x28, RF 5
        self.conv3 = conv_relu_bn(c1, c1, padding=1)     # 4x28x28, RF 7
        self.pool1 = nn.MaxPool2d(2)                     # 4x14x14, RF 8
        self.conv4 = conv_relu_bn(c1, c2, padding=1)     # 8x14x14, RF 12
        self.conv5 = conv_relu_bn(c2, c2, padding=1)     # 8x14x14, RF 16
        self.conv6 = conv_relu_bn(c2, c2, padding=1)     # 8x14x14, RF 20
        self.pool2 = nn.MaxPool2d(2)                     # 8x7x7, RF 22
        self.conv7 = conv_relu_bn(c2, c3, padding=1)     # 10x7x7, RF 30
        self.conv8 = conv_relu_bn(c3, c3, padding=1)     # 10x7x7, RF 38
        self.conv9 = conv_relu_bn(c3, c3, padding=1)     # 10x7x7, RF 46
        self.gap = nn.AdaptiveAvgPool2d(1)               # 10x1x1, RF 70
        self.head = nn.Conv2d(c3, 10, 1)                 # 10x1x1, RF 70

    def forward(self, x):
        x = self.conv1(x)
        x = self.conv2(x)
        x = self.conv3(x)
        x = self.pool1(x)
        x = self.conv4(x)
        x = self.conv5(x)
        x = self.conv6(x)
        x = self.pool2(x)
        x = self.conv7(x)
        x = self.conv8(x)
        x = self.conv9(x)
        x = self.gap(x)
        x = self.head(x)
        return F.log_softmax(x.flatten(1), dim=1)


# networks a configuration can name besides its step's own (``StepConfig.arch``): the search's and the ablation's
ARCHS = {"CapacityNet": CapacityNet, "CapacityAblation": CapacityAblation, "SlimNet": SlimNet, "PoolNet": PoolNet}

