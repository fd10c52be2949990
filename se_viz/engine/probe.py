"""Finding channel gates by what they do: a module whose output is its input scaled per channel.

The structural rule in :mod:`.blocks` sees the textbook SE module (reduce → expand → sigmoid
module). Published attention networks write the same idea in many other ways — ECA's 1-D
convolution across channels, CBAM's channel gate (one MLP on the average *and* the max pool),
an SE block whose ``forward()`` calls ``torch.sigmoid`` — and code shape cannot see them all.
What they share is behaviour: ``y[n, c] = s[n, c] · u[n, c]`` at every position, with ``s``
depending on the input. :func:`probe_gates` runs the network once on two different small
images with a hook on every module and keeps each module that

* returns a tensor of its input's shape (N, C, H, W) with H·W ≥ 2 (otherwise an offset hides as
  a scale),
* equals its input scaled per channel within a relative tolerance (least squares per channel),
* and scales differently for the two images: identity, dropout at evaluation, LayerScale and an
  untrained BatchNorm are static scales, not gates; BatchNorm with an offset fails the fit.

A gate inside a gate-shaped wrapper is reported once, as the smallest such module. Each gate is
then described from what its children did during the same pass (see :class:`ProbedGate`), so
the capture can hook an exact value (a gate module's output, an expand layer's output) instead
of recovering ``s`` by least squares whenever the network offers one.

The pass runs in evaluation mode under the model's lock, restores every module's training flag
and removes every hook in ``finally``. It costs one forward pass of two 64×64 images;
:func:`~se_viz.engine.blocks.find_se_blocks` runs it once per model and remembers the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import nn

from .locks import model_lock

__all__ = ["GATE_FUNCTIONS", "ProbedGate", "channel_scale", "probe_gates", "probe_input"]

# Relative residual below which an output counts as its input scaled per channel. float32 rounds
# y = s·u to ~6e-8 relative; BatchNorm's offset leaves residuals of a few percent.
SCALE_RTOL = 1e-4
# Two images whose gates differ by less than this (largest |Δs| over channels, relative to the
# largest |s|) are treated as a static scale: LayerScale, identity, dropout, untrained BatchNorm.
STATIC_RTOL = 1e-5
# Values that equal s within this count as s (a gate module's output, σ(expand output)).
MATCH_ATOL = 1e-5

# The gate nonlinearities a functional SE block may apply to its expand layer's output.
GATE_FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sigmoid": torch.sigmoid,
    "hard-sigmoid": F.hardsigmoid,
}


@dataclass(frozen=True)
class ProbedGate:
    """One module found to scale its input per channel, and what inside it computes the gate.

    ``kind`` is one of :data:`~se_viz.engine.blocks.KINDS`. ``gate_path`` names a child whose
    output is ``s`` itself (ECA's and CBAM's sigmoid modules); ``reduce_path`` / ``expand_path``
    the first and last dense layers (Linear or 1×1 convolution) that ran inside, when there are
    two; ``gate_kind`` the nonlinearity (``sigmoid``, ``hard-sigmoid`` or ``""`` when unknown).
    ``reduce_calls`` counts the reduce layer's calls per pass of the module (2 in CBAM).
    """

    path: str
    channels: int
    kind: str
    gate_kind: str
    gate_path: str
    reduce_path: str
    expand_path: str
    reduced: int
    module_type: str
    reduce_calls: int


def channel_scale(u: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The per-channel factor s (N, C) that best maps ``u`` to ``y`` (least squares over H·W).

    ``s = Σ u·y / Σ u²`` per image and channel. A channel that is zero everywhere in ``u`` has
    no observable gate (its output is zero whatever s is): it gets s = 0 instead of a division
    by zero.
    """
    u32, y32 = u.float().flatten(2), y.float().flatten(2)
    uu = (u32 * u32).sum(2)
    uy = (u32 * y32).sum(2)
    return torch.where(uu > 0, uy / uu.clamp_min(torch.finfo(torch.float32).tiny), torch.zeros_like(uu))


def _fit(u: torch.Tensor, y: torch.Tensor) -> Optional[torch.Tensor]:
    """s (N, C) when ``y`` is ``u`` scaled per channel within :data:`SCALE_RTOL`, else None.

    Raises :class:`_Inconclusive` when ``u`` cannot tell: an image whose ``u`` is zero (timm
    zero-initialises the last BatchNorm of every residual branch, so an untrained network feeds
    its attention modules zeros) or does not vary across positions (a scale and an offset look
    alike on a constant). Passing here is necessary, not sufficient: a SiLU on channels whose
    values share one sign passes too, which is why :func:`probe_gates` asks again on noise.
    """
    # Most modules (convolutions, normalisations, activations on mixed signs) fail on the first
    # few channels of the first image: reject them before the full fit, which costs more.
    head_u, head_y = u[:1, :8].float(), y[:1, :8].float()
    if bool((head_u != 0).any()) and not _scaled(head_u, head_y):
        return None
    u32, y32 = u.float(), y.float()
    mag = u32.abs().flatten(1).amax(1)
    varies = u32.flatten(2).std(2) > 1e-6 * mag.clamp_min(1e-30)[:, None]
    if bool((mag == 0).any()) or not bool(varies.any(1).all()):
        raise _Inconclusive
    return channel_scale(u32, y32) if _scaled(u32, y32) else None


def _scaled(u: torch.Tensor, y: torch.Tensor) -> bool:
    """True when ``y`` equals ``u`` scaled per channel within :data:`SCALE_RTOL` (float32 inputs)."""
    s = channel_scale(u, y)
    residual = (y - s[:, :, None, None] * u).flatten(1).norm(dim=1)
    scale = y.flatten(1).norm(dim=1)
    if not bool(torch.isfinite(residual).all()) or bool((scale == 0).any()):
        return False
    return not bool((residual > SCALE_RTOL * scale).any())


class _Inconclusive(Exception):
    """The module's input this time cannot tell a per-channel scale from anything else."""


def _input_dependent(s: torch.Tensor, u: torch.Tensor) -> bool:
    """True when the images' gates differ (on channels where each image's ``u`` is non-zero)."""
    seen = (u.float().flatten(2).abs().amax(2) > 0).all(0)
    if not bool(seen.any()):
        return False
    s = s[:, seen]
    spread = (s - s[:1]).abs().amax()
    return bool(spread > STATIC_RTOL * s.abs().amax().clamp_min(1e-12))


def probe_input(model: nn.Module, side: int, n: int = 2) -> torch.Tensor:
    """``n`` different probe images (n, C_in, side, side): noise, then smooth patterns.

    Two unlike images make an input-dependent gate differ even in an untrained network, whose
    deep features otherwise look alike for two noise draws.
    """
    param = next(model.parameters(), None)
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    device = param.device if param is not None else torch.device("cpu")
    first = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    c_in = first.in_channels if first is not None else 3
    gen = torch.Generator().manual_seed(0)
    ramp = torch.linspace(-2.0, 2.0, side)
    images = [torch.randn(c_in, side, side, generator=gen)]
    for k in range(1, n):
        phase = torch.rand(c_in, 1, 1, generator=gen) * 6.28
        wave = torch.sin(k * 3.0 * ramp[None, :, None] + phase) * torch.cos(ramp[None, None, :] * k)
        images.append(2.5 * wave)
    return torch.stack(images).to(device=device, dtype=dtype)


def _is_dense(m: nn.Module) -> bool:
    if isinstance(m, nn.Linear):
        return True
    return isinstance(m, nn.Conv2d) and tuple(m.kernel_size) == (1, 1) and m.groups == 1


class _Recorder:
    """Forward hooks on every module; for each call a sequence number, and what the gate test needs."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.seq = 0
        self.open: dict[int, list[tuple[int, torch.Tensor]]] = {}  # id(module) → stack of (start, u)
        # path → list of calls: (start, end, u, s) for modules that scaled their input per channel
        self.scaled: dict[str, list[tuple[int, int, torch.Tensor, torch.Tensor]]] = {}
        self.failed: set[str] = set()  # modules that returned 4-D maps without scaling on some call
        # path → (module, input) of modules whose input in the network could not tell (see _fit)
        self.inconclusive: dict[str, tuple[nn.Module, torch.Tensor]] = {}
        # path → list of (start, end, first input, output) for small-output modules (gate candidates)
        self.calls: dict[str, list[tuple[int, int, Optional[torch.Tensor], torch.Tensor]]] = {}
        self.handles: list[torch.utils.hooks.RemovableHandle] = []

    def attach(self) -> None:
        for path, module in self.model.named_modules():
            if module is self.model:
                continue
            self.handles.append(module.register_forward_pre_hook(self._pre(module)))
            self.handles.append(module.register_forward_hook(self._post(module, path)))

    def remove(self) -> None:
        while self.handles:
            self.handles.pop().remove()

    def _pre(self, module: nn.Module) -> Callable:
        def hook(_m: nn.Module, args: tuple) -> None:
            self.seq += 1
            u = args[0] if args and isinstance(args[0], torch.Tensor) else None
            # The input is cloned: an in-place op later in this module must not change what we fit.
            kept = u.detach().clone() if u is not None else None
            self.open.setdefault(id(module), []).append((self.seq, kept))

        return hook

    def _post(self, module: nn.Module, path: str) -> Callable:
        def hook(_m: nn.Module, _args: tuple, out: object) -> None:
            self.seq += 1
            start, u = self.open[id(module)].pop()
            if not isinstance(out, torch.Tensor):
                return
            y = out.detach()
            if u is not None and u.ndim == 4 and y.shape == u.shape and u.shape[2] * u.shape[3] >= 2:
                if not (u.is_floating_point() and y.is_floating_point()):
                    self.failed.add(path)
                else:
                    try:
                        s = _fit(u, y)
                    except _Inconclusive:
                        self.inconclusive[path] = (module, u)
                    else:
                        if s is None:
                            self.failed.add(path)
                        else:
                            self.scaled.setdefault(path, []).append((start, self.seq, u, s))
            per_image = y[0].numel() if y.ndim and y.shape[0] else 0
            if per_image <= 1 << 14:
                self.calls.setdefault(path, []).append((start, self.seq, u, y.clone()))

        return hook


def _inside(calls: list, start: int, end: int) -> list:
    return [c for c in calls if start < c[0] and c[1] < end]


def _matches(value: torch.Tensor, s: torch.Tensor) -> bool:
    if value.shape[0] != s.shape[0] or value[0].numel() != s.shape[1]:
        return False
    flat = value.float().reshape(s.shape)
    return bool(torch.allclose(flat, s, atol=MATCH_ATOL, rtol=MATCH_ATOL))


def _gate_name(module: nn.Module) -> str:
    name = type(module).__name__.lower()
    if "sigmoid" in name and "swish" not in name and "silu" not in name:
        return "hard-sigmoid" if "hard" in name else "sigmoid"
    return ""


def _describe(
    rec: _Recorder, path: str, module: nn.Module, call: tuple[int, int, torch.Tensor, torch.Tensor]
) -> ProbedGate:
    """What inside the module at ``path`` computed its gate, from the children's calls in ``call``."""
    start, end, u, s = call
    channels = int(u.shape[1])
    prefix = path + "."
    modules = dict(module.named_modules(prefix=path))
    inner = {
        p: sorted(_inside(calls, start, end), key=lambda c: c[0])
        for p, calls in rec.calls.items()
        if p.startswith(prefix) and _inside(calls, start, end)
    }
    # A child whose output is s itself, called once: the gate module (the last one, if nested).
    gate_path, gate_kind = "", ""
    for p, calls in sorted(inner.items(), key=lambda kv: kv[1][-1][1]):
        if len(calls) == 1 and _matches(calls[0][3], s):
            gate_path, gate_kind = p, _gate_name(modules[p]) or gate_kind
    dense = sorted(
        ((calls[0][0], p) for p, calls in inner.items() if _is_dense(modules[p])), key=lambda t: t[0]
    )
    reduce_path = expand_path = ""
    reduced, reduce_calls = 0, 0
    if len(dense) >= 2:
        reduce_path, expand_path = dense[0][1], dense[-1][1]
        reduce_calls = len(inner[reduce_path])
        out = inner[reduce_path][0][3]
        reduced = int(out[0].numel())
    kind = "channel-scale"
    has_conv1d = any(isinstance(modules[p], nn.Conv1d) for p in inner)
    if "gatherexcite" in type(module).__name__.lower():
        kind = "gather-excite"
    elif has_conv1d and not reduce_path:
        kind = "eca"
    elif reduce_path and reduce_calls == 2 and _is_cbam(inner[reduce_path], u):
        kind = "cbam-channel"
    elif reduce_path and gate_path:
        kind = "se"
    elif reduce_path and len(inner[expand_path]) == 1:
        expanded = inner[expand_path][0][3]
        for name, fn in GATE_FUNCTIONS.items():
            if _matches(fn(expanded.float()), s):
                kind, gate_kind = "se-functional", name
                break
    if kind in ("eca", "channel-scale"):
        # No SE-shaped MLP: z is the channel mean of u, and there is no reduce/expand to show.
        reduce_path = expand_path = ""
        reduced = 0
    return ProbedGate(
        path=path,
        channels=channels,
        kind=kind,
        gate_kind=gate_kind,
        gate_path=gate_path,
        reduce_path=reduce_path,
        expand_path=expand_path,
        reduced=reduced,
        module_type=type(module).__name__,
        reduce_calls=reduce_calls,
    )


def _is_cbam(reduce_calls: list, u: torch.Tensor) -> bool:
    """CBAM's channel MLP runs first on the average pool and then on the max pool of ``u``."""
    first, second = reduce_calls[0][2], reduce_calls[1][2]
    if first is None or second is None:
        return False
    n = u.shape[0]
    avg, mx = u.float().mean((2, 3)), u.float().amax((2, 3))
    return _matches(first.reshape(n, -1), avg) and _matches(second.reshape(n, -1), mx)


def _smallest(paths: list[str]) -> list[str]:
    """Drop every path that contains another one: one block per gate, the innermost module."""
    return [p for p in paths if not any(q != p and q.startswith(p + ".") for q in paths)]


def probe_gates(model: nn.Module, side: int = 64) -> list[ProbedGate]:
    """Every module of ``model`` that scales its input per channel, depending on the input.

    Runs one forward pass of :func:`probe_input` (two images of ``side`` × ``side`` pixels) in
    evaluation mode; raises whatever the model raises for that input (the caller may retry at
    another size). Gates are returned in module-registration order.
    """
    batch = probe_input(model, side)
    rec = _Recorder(model)
    modes = {m: m.training for m in model.modules()}
    confirmed: dict[str, tuple] = {}
    with model_lock(model), torch.inference_mode():
        try:
            model.eval()
            rec.attach()
            model(batch)
            # Every module that scaled per channel in the network, or whose input there could not
            # tell, is asked again on its own with two unlike random maps of its input's shape:
            # random signs everywhere unmask elementwise activations (a SiLU on a channel whose
            # values share one sign looks like a 0/1 gate), and a zero input (untrained timm
            # ResNets) gets a real one. The recorder still listens to the module's children.
            gen = torch.Generator().manual_seed(1)
            # Static scales (untrained BatchNorm, LayerScale) are dropped here, without a second ask.
            shapes = {
                p: calls[0][2]
                for p, calls in rec.scaled.items()
                if all(_input_dependent(c[3], c[2]) for c in calls)
            }
            shapes.update({p: u for p, (_m, u) in rec.inconclusive.items()})
            for path, u in shapes.items():
                if path in rec.failed:
                    continue
                noise = torch.randn(u.shape, generator=gen).to(device=u.device, dtype=u.dtype)
                noise[1::2] = noise[1::2] * 2.0 + 0.5
                before = len(rec.scaled.get(path, ()))
                try:
                    model.get_submodule(path)(noise)
                except Exception:  # a module that needs more than this one map is no gate
                    continue
                alone = rec.scaled.get(path, [])[before:]
                if alone and path not in rec.failed and _input_dependent(alone[-1][3], alone[-1][2]):
                    confirmed[path] = alone[-1]
        finally:
            rec.remove()
            for m, training in modes.items():
                m.training = training
    order = {p: i for i, (p, _) in enumerate(model.named_modules())}
    found = [p for p in confirmed if p not in rec.failed]
    return [
        _describe(rec, path, model.get_submodule(path), confirmed[path])
        for path in sorted(_smallest(found), key=order.__getitem__)
    ]
