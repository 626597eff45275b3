"""The CPU this runs on, and the older x86 CPUs that XLA can compile for.

XLA compiles for the newest instruction set of the CPU it runs on, unless
``XLA_FLAGS=--xla_cpu_max_isa=...`` caps it at an older one: that is how the
course simulates another CPU (chapter 12, ``make portability``).

Nothing here imports JAX, so that a tool that only asks about the CPU (nbval's
plugin, ``scripts/nbval_strict.py``, in each of its processes) does not pay
for starting it.
"""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

#: The newest x86 instruction set that XLA can be told to compile for
#: (``XLA_FLAGS=--xla_cpu_max_isa=...``) that has no fused multiply-add (FMA).
#: ``AVX2`` and everything after it have FMA; ``SSE4_2`` and ``AVX`` do not.
ISA_WITHOUT_FMA = "AVX"
ISAS_WITHOUT_FMA = ("SSE4_2", "AVX")


def on_x86() -> bool:
    """Whether this machine is x86-64, the only family ``--xla_cpu_max_isa`` has names for.

    >>> type(on_x86())
    <class 'bool'>
    """
    return platform.machine() in ("x86_64", "AMD64")


def host_cpu_flags() -> frozenset[str]:
    """The instruction-set flags of this machine's CPU, as Linux lists them.

    Empty where ``/proc/cpuinfo`` does not exist (macOS, Windows) or lists no
    flags (ARM lists ``Features``, which are read instead).

    >>> flags = host_cpu_flags()
    >>> isinstance(flags, frozenset)
    True
    """
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


#: For each instruction set XLA can be capped at, a CPU flag (``/proc/cpuinfo``)
#: of the next newer set: a CPU without it has nothing that the cap takes away.
_NEWER_THAN = {"SSE4_2": "avx", "AVX": "avx2", "AVX2": "avx512f"}


def cap_changes_nothing(isa: str, flags: frozenset[str]) -> bool:
    """Whether capping XLA at ``isa`` leaves a CPU with these flags as it is.

    On a CPU without AVX-512, ``AVX2`` is already the best XLA can use; on one
    without AVX2 (and so without FMA), ``AVX`` is.

    >>> cap_changes_nothing("AVX2", frozenset({"avx", "avx2", "fma"}))
    True
    >>> cap_changes_nothing("AVX", frozenset({"avx", "avx2", "fma"}))
    False
    """
    newer = _NEWER_THAN.get(isa.upper())
    return newer is not None and newer not in flags


def isa_cap(xla_flags: str | None) -> str | None:
    """The instruction set named by ``--xla_cpu_max_isa=`` in ``xla_flags``, if any.

    >>> isa_cap("--xla_force_host_platform_device_count=2 --xla_cpu_max_isa=AVX")
    'AVX'
    >>> isa_cap("") is None
    True
    """
    found = re.findall(r"--xla_cpu_max_isa=(\S+)", xla_flags or "")
    return found[-1].upper() if found else None


def cpu_environment(isa: str | None) -> dict[str, str]:
    """The environment of a new process whose XLA compiles for ``isa`` (``None``: this CPU's best).

    Any ``--xla_cpu_max_isa`` inherited from this process is removed first.
    JAX's persistent compilation cache may stay on: its key includes ``XLA_FLAGS``.

    >>> cpu_environment("AVX")["XLA_FLAGS"].split()[-1]
    '--xla_cpu_max_isa=AVX'
    """
    flags = [flag for flag in os.environ.get("XLA_FLAGS", "").split() if not flag.startswith("--xla_cpu_max_isa=")]
    if isa is not None:
        flags.append(f"--xla_cpu_max_isa={isa}")
    return {**os.environ, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": " ".join(flags)}
