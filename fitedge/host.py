"""The CPU this process runs on: model name, the ISA features int8 kernels depend on, and its class.

int8 results depend on the instruction set: without VNNI, ONNX Runtime's x86 kernels multiply u8 x s8 pairs
with ``vpmaddubsw``, which saturates at int16; ARM64 cores choose among NEON, dot-product and i8mm kernels.
So a bundle records where each artifact was verified, and ``fitedge verify`` says where it ran.

The features come from the CPUID instruction itself rather than ``/proc/cpuinfo``: under ``qemu-x86_64 -cpu
Haswell`` (how the tests emulate an AVX2-only CPU on any x86-64 host) ``/proc/cpuinfo`` is the host's, while
CPUID, like the runtimes' own kernel dispatch, sees the emulated CPU. No installed library reads CPUID without
also merging ``/proc/cpuinfo`` (py-cpuinfo does), hence the few bytes of machine code below.
"""

from __future__ import annotations

import ctypes
import functools
import mmap
import platform
from pathlib import Path

# (leaf, subleaf, register, bit) of each x86 feature that changes which int8/fp32 kernels run.
X86_FEATURES = {
    "avx2": (7, 0, "ebx", 5),
    "avx512f": (7, 0, "ebx", 16),
    "avx512bw": (7, 0, "ebx", 30),
    "avx512_vnni": (7, 0, "ecx", 11),
    "avx_vnni": (7, 1, "eax", 4),
    "amx_int8": (7, 0, "edx", 25),
}
# SysV x86-64: cpuid(leaf=edi, subleaf=esi, out=rdx) stores eax, ebx, ecx, edx at out[0..3]; rbx is callee-saved.
_CPUID_CODE = bytes.fromhex("4989d0" "89f8" "89f1" "53" "0fa2" "418900" "41895804" "41894808" "4189500c" "5b" "c3")
ARM_FEATURES = ("asimd", "asimddp", "i8mm", "sve", "bf16")


def cpu_model() -> str:
    """The CPU's name: CPUID's brand string on x86-64, else /proc/cpuinfo, else what :mod:`platform` knows."""
    if _is_x86():
        words = [w for leaf in (0x80000002, 0x80000003, 0x80000004) for w in _cpuid(leaf, 0)]
        brand = b"".join(w.to_bytes(4, "little") for w in words).split(b"\0")[0].decode(errors="replace").strip()
        if brand:
            return brand
    for line in _proc_cpuinfo():
        if line.startswith(("model name", "Model", "Hardware")):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


@functools.cache
def isa_features() -> tuple[str, ...]:
    """The int8-relevant features this CPU has, e.g. ``("avx2", "avx512f", "avx512bw", "avx512_vnni")``."""
    if _is_x86():
        registers = {}
        found = []
        for name, (leaf, subleaf, register, bit) in X86_FEATURES.items():
            if (leaf, subleaf) not in registers:
                registers[leaf, subleaf] = dict(zip(("eax", "ebx", "ecx", "edx"), _cpuid(leaf, subleaf)))
            if registers[leaf, subleaf][register] >> bit & 1:
                found.append(name)
        return tuple(found)
    flags = next((line.split(":", 1)[1].split() for line in _proc_cpuinfo() if line.startswith("Features")), [])
    return tuple(f for f in ARM_FEATURES if f in flags)


def cpu_class() -> str:
    """A short name for the int8 behaviour class: ``x86-64 AVX-512 VNNI``, ``x86-64 AVX2``, ``arm64 dotprod``..."""
    features = set(isa_features())
    if _is_x86():
        base = "x86-64 AVX-512" if {"avx512f", "avx512bw"} <= features else \
            "x86-64 AVX2" if "avx2" in features else "x86-64 SSE"
        vnni = "avx512_vnni" in features and base.endswith("512") or "avx_vnni" in features
        return f"{base} VNNI" if vnni else base
    if platform.machine() in ("aarch64", "arm64"):
        return arm_class(features)
    return platform.machine()


def arm_class(features: set[str] | list[str]) -> str:
    """The int8 class of an ARM64 CPU with these Linux HWCAP features: NEON only, dot-product, or i8mm."""
    return "arm64 i8mm" if "i8mm" in features else "arm64 dotprod" if "asimddp" in features else "arm64"


def describe_cpu() -> dict[str, object]:
    """``{"model", "class", "isa"}``: what a manifest records about the machine that verified an artifact."""
    return {"model": cpu_model(), "class": cpu_class(), "isa": list(isa_features())}


def _is_x86() -> bool:
    return platform.machine() in ("x86_64", "AMD64")


@functools.cache
def _cpuid_function() -> ctypes._CFuncPtr:
    page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    page.write(_CPUID_CODE)
    address = ctypes.addressof(ctypes.c_char.from_buffer(page))
    function = ctypes.CFUNCTYPE(None, ctypes.c_uint32, ctypes.c_uint32, ctypes.POINTER(ctypes.c_uint32))(address)
    function.page = page  # the code lives as long as the function object
    return function


def _cpuid(leaf: int, subleaf: int) -> tuple[int, int, int, int]:
    out = (ctypes.c_uint32 * 4)()
    _cpuid_function()(leaf, subleaf, out)
    return tuple(out)


def _proc_cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []
