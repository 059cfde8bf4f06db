"""What the CPU is, for benchmark and model-card readers: speed figures hold for one host only."""

from __future__ import annotations

from pathlib import Path

# the vector extensions that decide ONNX Runtime's and TensorFlow's CPU speed: two hosts that both call
# themselves "AMD EPYC" ran this project's model 3x apart, AVX-512 being the difference
SPEED_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_int8", "amx_bf16")


def cpu_model_and_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> tuple[str, list[str]]:
    """The CPU's model name ("unknown" off Linux) and which of ``SPEED_FLAGS`` it has, in that order."""
    model, flags = "unknown", set[str]()
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name") and model == "unknown":
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return model, [flag for flag in SPEED_FLAGS if flag in flags]


def cpu_description(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """e.g. ``AMD EPYC (avx2 fma)``."""
    model, flags = cpu_model_and_flags(cpuinfo)
    return f"{model} ({' '.join(flags) or 'no vector extensions read'})"
