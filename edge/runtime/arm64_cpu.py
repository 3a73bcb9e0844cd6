"""The ARM64 CPU a process runs on, as its kernel tells it: HWCAP features, MIDR, and the ``/proc/cpuinfo`` text.

Runs inside the emulated arm64 Python (standard library only, also as a script that prints the description
as JSON): under qemu-user the HWCAPs in the auxiliary vector and the MIDR_EL1 register are the emulated
model's, while ``/proc/cpuinfo`` and ``/sys`` are the host's. :func:`proc_cpuinfo` writes the text Linux
(arch/arm64/kernel/cpuinfo.c) would show for that CPU, which :mod:`fitedge.edge.runtime.arm64` gives each
model in place of the host's.
"""

from __future__ import annotations

import ctypes
import json
import mmap

# Linux's arm64 HWCAP names (uapi asm/hwcap.h), bit by bit: AT_HWCAP, then AT_HWCAP2.
HWCAP = ("fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm jscvt fcma lrcpc dcpop "
         "sha3 sm3 sm4 asimddp sha512 sve asimdfhm dit uscat ilrcpc flagm ssbs sb paca pacg").split()
HWCAP2 = ("dcpodp sve2 sveaes svepmull svebitperm svesha3 svesm4 flagm2 frint svei8mm svef32mm svef64mm svebf16 "
          "i8mm bf16 dgh rng bti mte ecv afp rpres mte3 sme smei16i64 smef64f64 smei8i32 smef16f32 smeb16f32 "
          "smef32f32 smefa64 wfxt ebf16 sveebf16").split()
AT_HWCAP, AT_HWCAP2 = 16, 26
# The features that decide which int8/fp32 kernels run (the rest are listed in ``features``).
KERNEL_FEATURES = ("asimd", "asimddp", "i8mm", "sve", "sve2", "bf16", "sme")
# ``mrs x0, midr_el1; ret``: Linux (and qemu-user) emulate reads of the ID registers from user space.
_READ_MIDR = bytes.fromhex("000038d5" "c0035fd6")


def read_cpu() -> dict[str, object]:
    """``{"midr", "features", "isa"}`` of the CPU this process runs on (arm64 Linux only)."""
    libc = ctypes.CDLL(None)
    libc.getauxval.restype = ctypes.c_ulong
    libc.getauxval.argtypes = [ctypes.c_ulong]
    bits = [(libc.getauxval(AT_HWCAP), HWCAP), (libc.getauxval(AT_HWCAP2), HWCAP2)]
    features = [name for value, names in bits for i, name in enumerate(names) if value >> i & 1]
    return {"midr": f"0x{_midr():08x}", "features": features, "isa": [f for f in KERNEL_FEATURES if f in features]}


def proc_cpuinfo(cpu: dict[str, object], cores: int = 1) -> str:
    """The ``/proc/cpuinfo`` Linux shows for ``cores`` cores of ``cpu`` (as :func:`read_cpu` describes it)."""
    midr = int(str(cpu["midr"]), 16)
    block = (f"BogoMIPS\t: 50.00\nFeatures\t: {' '.join(cpu['features'])}\nCPU implementer\t: 0x{midr >> 24:02x}\n"
             f"CPU architecture: 8\nCPU variant\t: 0x{midr >> 20 & 0xf:x}\nCPU part\t: 0x{midr >> 4 & 0xfff:03x}\n"
             f"CPU revision\t: {midr & 0xf}\n\n")
    return "".join(f"processor\t: {i}\n{block}" for i in range(cores))


def _midr() -> int:
    page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    page.write(_READ_MIDR)
    function = ctypes.CFUNCTYPE(ctypes.c_uint64)(ctypes.addressof(ctypes.c_char.from_buffer(page)))
    return function()


if __name__ == "__main__":
    print(json.dumps(read_cpu()))
