"""Specification of dl_workshop.cpus: which CPU this is, and which caps XLA can be given.

nbval's plugin (scripts/nbval_strict.py) decides from these whether a capped run (``make nbval``
compiled for AVX2, ``make portability`` for AVX) can differ from plain nbval, and whether it takes FMA away.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dl_workshop.cpus import (
    ISA_WITHOUT_FMA,
    ISAS_WITHOUT_FMA,
    cap_changes_nothing,
    cpu_environment,
    host_cpu_flags,
    isa_cap,
    on_x86,
)

ROOT = Path(__file__).resolve().parents[1]


def test_isa_cap_reads_the_last_cap_in_the_flags():
    assert isa_cap(None) is None
    assert isa_cap("--xla_force_host_platform_device_count=2") is None
    assert isa_cap("--xla_cpu_max_isa=avx2") == "AVX2"
    assert isa_cap("--xla_cpu_max_isa=AVX2 --xla_cpu_max_isa=AVX") == "AVX"


def test_the_isa_without_fma_is_one_of_those_without_fma():
    assert ISA_WITHOUT_FMA in ISAS_WITHOUT_FMA
    assert "AVX2" not in ISAS_WITHOUT_FMA


def test_a_cap_changes_nothing_on_a_cpu_without_a_newer_instruction_set():
    zen2 = frozenset({"sse4_2", "avx", "avx2", "fma"})
    skylake_x = zen2 | {"avx512f"}
    assert cap_changes_nothing("AVX2", zen2) and not cap_changes_nothing("AVX2", skylake_x)
    assert not cap_changes_nothing("AVX", zen2)
    assert cap_changes_nothing("AVX", frozenset({"sse4_2", "avx"}))  # Sandy Bridge: no AVX2, no FMA
    assert not cap_changes_nothing("AVX512", skylake_x)  # not a cap this project knows: never skipped


def test_a_child_environment_replaces_an_inherited_cap_and_keeps_other_flags(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_max_isa=AVX2 --xla_cpu_multi_thread_eigen=false")
    assert cpu_environment("AVX")["XLA_FLAGS"] == "--xla_cpu_multi_thread_eigen=false --xla_cpu_max_isa=AVX"
    assert cpu_environment(None)["XLA_FLAGS"] == "--xla_cpu_multi_thread_eigen=false"
    assert cpu_environment(None)["JAX_PLATFORMS"] == "cpu"
    assert os.environ["XLA_FLAGS"].startswith("--xla_cpu_max_isa=AVX2")  # this process is left alone


@pytest.mark.skipif(not os.path.exists("/proc/cpuinfo"), reason="no /proc/cpuinfo on this system")
def test_host_cpu_flags_are_read_from_proc_cpuinfo():
    flags = host_cpu_flags()
    assert flags, "no 'flags' or 'Features' line found in /proc/cpuinfo"
    if on_x86():
        assert "sse2" in flags  # every x86-64 CPU has it


def test_nbval_plugin_asks_about_the_cpu_without_starting_jax():
    """nbval's plugin (scripts/nbval_strict.py) is imported by each of its processes, none of which runs JAX:
    importing JAX there would cost each of them about half a CPU second."""
    code = "import sys, scripts.nbval_strict; print(sorted(name for name in ('jax', 'jaxlib') if name in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", f"importing nbval's plugin imports {result.stdout.strip()}"
