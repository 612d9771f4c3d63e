"""The machine a program is compiled on, as far as compiled code depends on it."""

from __future__ import annotations

import platform


def host_cpu() -> dict:
    """The host CPU's model and the vector extensions XLA's CPU code generator picks from. Two CPUs with
    different extensions (e.g. AVX-512 or not) compile the same program to differently rounded code, so
    a seed's numbers reproduce digit for digit only on the same kind of CPU."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
                    break
    except OSError:
        pass
    return {"model": model, "extensions": sorted(f for f in flags if f in _VECTOR_EXTENSIONS or f.startswith("avx512"))}


_VECTOR_EXTENSIONS = {"sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c", "amx_bf16", "amx_tile"}


__all__ = ["host_cpu"]
