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
* is not the identity up to noise: ``s`` further than :data:`IDENTITY_ATOL` from 1 on some
  channel (an untrained residual stack behind LayerScale at 1e-5 is ``x + 1e-5·f(x)``),
* and, asked again on its own with two unlike random maps of its input's shape, still scales
  per channel and differently for the two: identity, dropout at evaluation, LayerScale and an
  untrained BatchNorm are static scales, not gates; BatchNorm with an offset fails the fit.

A gate inside a gate-shaped wrapper is reported once, as the smallest such module (a module
whose children already hold the gate is not one). Each gate is then described from what its
children did during the same pass (see :class:`FoundGate`), so the capture can hook an exact
value (a gate module's output, an expand layer's output, the MLP's input as ``z``) instead of
recovering ``s`` by least squares whenever the network offers one; its kind is decided in one
place, :func:`_kind`.

The probe runs in evaluation mode under the model's lock, restores every module's training flag
and removes every hook in ``finally``. It costs one recorded forward pass of two 64×64 images
(every module's input cloned and fitted) plus one rerun of each candidate module — each module
that scaled per channel in that pass, or whose input there was all zero. Measured with
``python -m se_viz.bench.probe`` (untrained timm networks, torch on one thread, a 2-core machine
shared at load ~10): seresnet50 runs 312 modules in the pass and 96 module calls in the reruns,
and the probe costs 4.7× a plain forward of the same images (1.2 s); ecaresnet26t, poolformer_s12
4–5×, efficientnet_b0 8×, mobilenetv3_large_100 12× (small networks, where hooks and fits
dominate). :func:`~se_viz.engine.blocks.find_se_blocks` runs it once per model and remembers
the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple, Optional

import torch
import torch.nn.functional as F
from torch import nn

from .kinds import dense_dims, gate_activation, is_gather_excite
from .locks import model_lock

__all__ = ["GATE_FUNCTIONS", "FoundGate", "channel_scale", "probe_gates", "probe_input"]

# Relative residual below which an output counts as its input scaled per channel. float32 rounds
# y = s·u to ~6e-8 relative; BatchNorm's offset leaves residuals of a few percent.
SCALE_RTOL = 1e-4
# Two images whose gates differ by less than this (largest |Δs| over channels, relative to the
# largest |s|) are treated as a static scale: LayerScale, identity, dropout, untrained BatchNorm.
STATIC_RTOL = 1e-5
# Values that equal s within this count as s (a gate module's output, σ(expand output)).
MATCH_ATOL = 1e-5
# A module whose s is within this of 1 on every channel, for both random maps, is the identity
# up to noise, not a gate: an untrained residual stack with LayerScale at 1e-5 gives
# y = x + 1e-5·f(x), which passes the fit (SCALE_RTOL) and differs between images (STATIC_RTOL).
# A sigmoid gate would need a pre-activation above 6.9 on every channel of both maps to pass.
IDENTITY_ATOL = 1e-3

# The gate nonlinearities a functional SE block may apply to its expand layer's output.
GATE_FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sigmoid": torch.sigmoid,
    "hard-sigmoid": F.hardsigmoid,
}


@dataclass(frozen=True)
class FoundGate:
    """One channel gate, as either finder sees it: where it is and what inside it computes the gate.

    The fields are those of :class:`~se_viz.engine.blocks.BlockInfo` that do not depend on the
    other blocks (its name and index do). ``kind`` is one of :data:`~.kinds.KINDS`;
    ``gate_path`` names a child whose output is ``s`` itself (a sigmoid module); ``reduce_path``
    / ``expand_path`` the dense layers (Linear or 1×1 convolution) of the gate's MLP, the first
    fed one value per channel and the last returning one; ``gate_kind`` the nonlinearity
    (``sigmoid``, ``hard-sigmoid`` or ``""`` when unknown).
    """

    path: str
    channels: int
    reduced: int
    gate_kind: str
    reduce_path: str
    gate_path: str
    module_type: str
    expand_path: str
    kind: str


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
    # The input channels a timm network declares (TResNet's first convolution takes 48: its stem
    # folds 3×4×4 pixels into channels first), else those of the first convolution.
    cfg = getattr(model, "pretrained_cfg", None) or {}
    first = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    c_in = int(cfg["input_size"][0]) if "input_size" in cfg else first.in_channels if first is not None else 3
    gen = torch.Generator().manual_seed(0)
    ramp = torch.linspace(-2.0, 2.0, side)
    images = [torch.randn(c_in, side, side, generator=gen)]
    for k in range(1, n):
        phase = torch.rand(c_in, 1, 1, generator=gen) * 6.28
        wave = torch.sin(k * 3.0 * ramp[None, :, None] + phase) * torch.cos(ramp[None, None, :] * k)
        images.append(2.5 * wave)
    return torch.stack(images).to(device=device, dtype=dtype)


class _Call(NamedTuple):
    """One call of a module during the probe: its hook sequence numbers, first input and output."""

    start: int
    end: int
    u: Optional[torch.Tensor]
    out: torch.Tensor


class _Scaled(NamedTuple):
    """One call of a module whose output was its input ``u`` scaled per channel by ``s`` (N, C)."""

    start: int
    end: int
    u: torch.Tensor
    s: torch.Tensor


class _Recorder:
    """Forward hooks on every module; for each call a sequence number, and what the gate test needs."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.seq = 0
        self.open: dict[int, list[tuple[int, Optional[torch.Tensor]]]] = {}  # id(module) → (start, u)
        self.scaled: dict[str, list[_Scaled]] = {}  # path → calls that scaled their input per channel
        self.failed: set[str] = set()  # modules that returned 4-D maps without scaling on some call
        # path → (module, input) of modules whose input in the network could not tell (see _fit)
        self.inconclusive: dict[str, tuple[nn.Module, torch.Tensor]] = {}
        self.calls: dict[str, list[_Call]] = {}  # path → calls of small-output modules (gate parts)
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
                            self.scaled.setdefault(path, []).append(_Scaled(start, self.seq, u, s))
            if _per_image(y) <= 1 << 14:
                self.calls.setdefault(path, []).append(_Call(start, self.seq, u, y.clone()))

        return hook


def _per_image(t: Optional[torch.Tensor]) -> int:
    """Values per image of a batch tensor (0 for None or an empty batch)."""
    return int(t[0].numel()) if t is not None and t.ndim and t.shape[0] else 0


def _matches(value: Optional[torch.Tensor], s: torch.Tensor) -> bool:
    """True when ``value`` holds ``s`` (N, C) in any shape with C values per image, to MATCH_ATOL."""
    if value is None or value.shape[0] != s.shape[0] or value[0].numel() != s.shape[1]:
        return False
    flat = value.float().reshape(s.shape)
    return bool(torch.allclose(flat, s, atol=MATCH_ATOL, rtol=MATCH_ATOL))


def _describe(rec: _Recorder, path: str, module: nn.Module, call: _Scaled) -> FoundGate:
    """What inside the module at ``path`` computed its gate, from its children's calls in ``call``.

    The parts are told by what they did: the gate module is a child whose output is ``s``; the
    reduce layer is the first dense layer fed one value per channel (the squeeze), the expand
    layer the last dense layer that returns one value per channel. Which kind the gate is, is
    decided by :func:`_kind` alone.
    """
    u, s = call.u, call.s
    channels = int(u.shape[1])
    modules = dict(module.named_modules(prefix=path))
    inner: dict[str, list[_Call]] = {}
    for p, calls in rec.calls.items():
        during = [c for c in calls if call.start < c.start and c.end < call.end]
        if p.startswith(path + ".") and during:
            inner[p] = during
    # A child whose output is s itself, called once: the gate module (the last one, if nested).
    gate_path, gate_kind = "", ""
    for p, calls in sorted(inner.items(), key=lambda kv: kv[1][-1].end):
        if len(calls) == 1 and _matches(calls[0].out, s):
            gate_path, gate_kind = p, gate_activation(modules[p]) or gate_kind
    dense = [p for p, calls in sorted(inner.items(), key=lambda kv: kv[1][0].start) if dense_dims(modules[p])]
    reduce_path = next((p for p in dense if _per_image(inner[p][0].u) == channels), "")
    expand_path = next(
        (p for p in reversed(dense) if p != reduce_path and _per_image(inner[p][-1].out) == channels), ""
    )
    if not (reduce_path and expand_path):
        reduce_path = expand_path = ""
    kind = _kind(module, modules, inner, u, reduce_path, gate_path)
    if not gate_path and expand_path and len(inner[expand_path]) == 1:
        # No gate module: which function of the expand layer's output is s (F.sigmoid, relu6(x+3)/6)?
        expanded = inner[expand_path][0].out.float()
        gate_kind = next((name for name, fn in GATE_FUNCTIONS.items() if _matches(fn(expanded), s)), "")
        if kind == "channel-scale" and gate_kind:
            kind = "se-functional"
    if kind in ("eca", "ese", "channel-scale"):
        # No SE-shaped MLP: z is the channel mean of u, and there is no reduce/expand to show.
        reduce_path = expand_path = ""
    reduced = _per_image(inner[reduce_path][0].out) if reduce_path else 0
    return FoundGate(
        path=path,
        channels=channels,
        reduced=reduced,
        gate_kind=gate_kind,
        reduce_path=reduce_path,
        gate_path=gate_path,
        module_type=type(module).__name__,
        expand_path=expand_path,
        kind=kind,
    )


def _kind(
    module: nn.Module,
    modules: dict[str, nn.Module],
    inner: dict[str, list[_Call]],
    u: torch.Tensor,
    reduce_path: str,
    gate_path: str,
) -> str:
    """Which kind of gate (a key of KINDS) the module is — the one place the probe decides it.

    Told by what the MLP was fed, not by names (Gather-Excite aside, whose gate reads like SE):
    CBAM's MLP runs on the average pool and then on the max pool of ``u``, Light CBAM's once on
    their mean, GC's on a softmax-attention-weighted sum of ``u`` over positions, SE's on the
    average pool; ECA has no MLP but a 1-D convolution across the channel means, ESE one dense
    layer C → C on them.
    """
    if is_gather_excite(module):
        return "gather-excite"
    avg, mx = u.float().mean((2, 3)), u.float().amax((2, 3))
    if not reduce_path:
        if any(isinstance(modules[p], nn.Conv1d) for p in inner):
            return "eca"
        square = (p for p, calls in inner.items() if dense_dims(modules[p]) == (u.shape[1], u.shape[1]))
        return "ese" if any(_matches(inner[p][0].u, avg) for p in square) else "channel-scale"
    pooled = [c.u for c in inner[reduce_path]]
    if len(pooled) == 2 and _matches(pooled[0], avg) and _matches(pooled[1], mx):
        return "cbam-channel"
    if len(pooled) == 1 and _matches(pooled[0], 0.5 * avg + 0.5 * mx) and not _matches(pooled[0], avg):
        return "light-cbam-channel"
    if len(pooled) == 1 and _attention_pooled(modules, inner, u, pooled[0]):
        return "gc"
    return "se" if gate_path else "channel-scale"


def _attention_pooled(
    modules: dict[str, nn.Module], inner: dict[str, list[_Call]], u: torch.Tensor, z: Optional[torch.Tensor]
) -> bool:
    """True when ``z`` is ``u`` pooled with softmax weights from a dense layer C → 1 run on ``u`` (GC)."""
    for p, calls in inner.items():
        dims = dense_dims(modules[p])
        first = calls[0]
        if dims is None or dims[1] != 1 or first.u is None or first.u.shape != u.shape:
            continue
        weights = torch.softmax(first.out.float().flatten(2), dim=-1)  # (N, 1, H·W)
        context = (u.float().flatten(2) * weights).sum(2)
        if _matches(z, context):
            return True
    return False


def _near_identity(call: _Scaled) -> bool:
    """True when ``s`` is 1 to within :data:`IDENTITY_ATOL` on every channel the input reached."""
    seen = call.u.float().flatten(2).abs().amax(2) > 0
    return bool(((call.s - 1.0).abs()[seen] <= IDENTITY_ATOL).all())


def _smallest(paths: list[str]) -> list[str]:
    """Drop every path that contains another one: one block per gate, the innermost module."""
    return [p for p in paths if not any(q != p and q.startswith(p + ".") for q in paths)]


def probe_gates(model: nn.Module, side: int = 64) -> list[FoundGate]:
    """Every module of ``model`` that scales its input per channel, depending on the input.

    Runs one forward pass of :func:`probe_input` (two images of ``side`` × ``side`` pixels) in
    evaluation mode; raises whatever the model raises for that input (the caller may retry at
    another size). Gates are returned in module-registration order.
    """
    batch = probe_input(model, side)
    rec = _Recorder(model)
    modes = {m: m.training for m in model.modules()}
    confirmed: dict[str, _Scaled] = {}
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
            # Near-identities (residual stacks behind an untrained LayerScale) are dropped here,
            # without a second ask. A scale that looked static is asked again: the network may
            # have fed it almost nothing (an untrained CSPNeXt feeds its ESE modules values of
            # 1e-4, so their gates sit at the fc bias for both images).
            asked = {p: calls[0].u for p, calls in rec.scaled.items() if not all(map(_near_identity, calls))}
            asked.update({p: u for p, (_m, u) in rec.inconclusive.items()})
            for path, u in asked.items():
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
                if not alone or path in rec.failed:
                    continue
                if _input_dependent(alone[-1].s, alone[-1].u) and not _near_identity(alone[-1]):
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
