"""The fast training path: no host synchronisation per batch; on a GPU, forward and backward as one CUDA graph.

On a GPU a step of these small networks is bound by launching some 150 kernels, not by
arithmetic. ``CapturedStep`` records the forward pass, the loss and the backward pass of a
full batch once as a CUDA graph and replays it for every later full batch; the optimizer,
the scheduler and the averaged weights still run eagerly after it, so what is learned is what
the eager loop learns. ``EMA`` is torch's ``AveragedModel`` without the two reads of its counter
that make every update wait for the GPU.
"""
import copy
import itertools

import torch
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

WARMUP_STEPS = 3  # passes run before the capture


class EMA(AveragedModel):
    """An exponential moving average of a model's weights and buffers (decay ``decay`` per step).

    ``update_parameters`` gives the same tensors as ``AveragedModel(model,
    multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)`` but counts its updates on the
    host, so it never waits for the device. With ``warmup`` the decay of update t is
    min(decay, (1 + t) / (10 + t)): early averages forget the random start within a few hundred
    steps instead of thousands.
    """

    def __init__(self, model, decay, warmup=False):
        super().__init__(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)
        self.decay, self.warmup, self.updates = decay, warmup, 0

    def update_parameters(self, model):
        if self.updates == 0:  # the first update copies the weights
            super().update_parameters(model)
        else:
            groups = {}  # as AveragedModel: one call per dtype (float weights, integer counters)
            pairs = zip(itertools.chain(self.module.parameters(), self.module.buffers()),
                        itertools.chain(model.parameters(), model.buffers()))
            for mine, theirs in pairs:
                group = groups.setdefault(mine.dtype, ([], []))
                group[0].append(mine.detach())
                group[1].append(theirs.detach())
            early = (1 + self.updates) / (10 + self.updates)  # the warm-up's decay; once past, the fixed one's
            average = get_ema_multi_avg_fn(early) if self.warmup and early < self.decay else self.multi_avg_fn
            for mine, theirs in groups.values():
                average(mine, theirs, self.n_averaged)
            self.n_averaged += 1
        self.updates += 1


class CapturedStep:
    """Forward, loss and backward of one batch shape, captured as a CUDA graph.

    ``step(x, y)`` copies the batch into the graph's input buffers, replays the graph (which
    writes the gradients into the parameters' ``.grad``) and returns (log-probabilities, loss).
    Building it runs ``WARMUP_STEPS`` forward and backward passes (CUDA initialises lazily, and
    that must not be recorded), then puts the model's state and the RNG back as they were. A
    batch of another shape (the last, smaller one) is left to the eager loop (``fits``).
    """

    def __init__(self, model, x, y, loss_fn=F.nll_loss):
        model.train()
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.x, self.y = x.clone(), y.clone()
        saved = copy.deepcopy(model.state_dict())  # the warm-up leaves no trace: BatchNorm's statistics,
        rng = torch.cuda.get_rng_state(x.device)   # dropout's random numbers
        side = torch.cuda.Stream(x.device)
        side.wait_stream(torch.cuda.current_stream(x.device))
        with torch.cuda.stream(side):
            for _ in range(WARMUP_STEPS):
                loss_fn(model(self.x), self.y).backward()
        torch.cuda.current_stream(x.device).wait_stream(side)
        model.load_state_dict(saved)
        torch.cuda.set_rng_state(rng, x.device)
        for p in self.params:
            p.grad = None  # the capture allocates the gradients the replays write
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.out = model(self.x)
            self.loss = loss_fn(self.out, self.y)
            self.loss.backward()
        self.grads = [p.grad for p in self.params]

    def fits(self, x):
        return x.shape == self.x.shape

    def step(self, x, y):
        self.x.copy_(x)
        self.y.copy_(y)
        for p, g in zip(self.params, self.grads):  # an eager step in between may have replaced them
            p.grad = g
        self.graph.replay()
        return self.out, self.loss
