from pathlib import Path

from emostream.core.host import cpu_description, cpu_model_and_flags

CPUINFO = """processor\t: 0
model name\t: AMD EPYC
flags\t\t: fpu sse2 avx fma avx2 avx512f avx512_bf16
processor\t: 1
model name\t: AMD EPYC
flags\t\t: fpu sse2 avx fma avx2 avx512f avx512_bf16
"""


def test_reads_the_model_and_the_flags_that_decide_speed_once(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(CPUINFO)
    assert cpu_model_and_flags(cpuinfo) == ("AMD EPYC", ["avx2", "fma", "avx512f", "avx512_bf16"])
    assert cpu_description(cpuinfo) == "AMD EPYC (avx2 fma avx512f avx512_bf16)"


def test_a_host_without_cpuinfo_is_described_as_unknown(tmp_path: Path) -> None:
    assert cpu_description(tmp_path / "missing") == "unknown (no vector extensions read)"
