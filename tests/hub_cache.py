"""A Hugging Face cache entry laid out as huggingface_hub writes one (for offline hub tests)."""

from __future__ import annotations

from pathlib import Path


def write_hub_cache(cache: Path, repo: str, state) -> Path:
    """Lay out a Hugging Face cache entry exactly as huggingface_hub writes one."""
    from safetensors.torch import save_file

    commit = "0123456789abcdef0123456789abcdef01234567"
    root = cache / f"models--{repo.replace('/', '--')}"
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text(commit)
    snap = root / "snapshots" / commit
    snap.mkdir(parents=True)
    save_file(state, str(snap / "model.safetensors"))
    return snap / "model.safetensors"
