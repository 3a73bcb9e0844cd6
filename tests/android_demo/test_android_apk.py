"""The installable APK (``android_demo/apk/build_apk.sh``, ``make apk``): LiteRT-only, debug-signed, checked.

The script builds it with real tools (javac against the Android API jars, D8 from Maven Central, Debian's aapt,
zipalign and apksigner) from a copy of the app with a bundle in its assets; here the APK's signature is verified
again with apksigner, a tampered copy is refused, its badging names the package, the launcher activity, the
microphone permission and arm64-v8a native code, the bundle is stored uncompressed, and its dex defines the app's,
the core's, LiteRT's and gson's classes but not the ExecuTorch stand-in the compile check compiles against. No
skips: a missing tool fails with the install line the script prints.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zipfile

from tests.helpers import REPO

SCRIPT = REPO / "android_demo" / "apk" / "build_apk.sh"
APP = REPO / "android_demo" / "app"


def uleb128(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        value, shift, at = value | (byte & 0x7F) << shift, shift + 7, at + 1
        if byte < 0x80:
            return value, at


def dex_class_names(dex: bytes) -> set[str]:
    """The classes a dex file defines (not merely references), as type descriptors like ``Lorg/a/B;``."""
    assert dex[:4] == b"dex\n", dex[:8]
    string_ids_off, type_ids_off = struct.unpack_from("<I", dex, 0x3C)[0], struct.unpack_from("<I", dex, 0x44)[0]
    class_defs_size, class_defs_off = struct.unpack_from("<II", dex, 0x60)

    def string(index: int) -> str:
        length, at = uleb128(dex, struct.unpack_from("<I", dex, string_ids_off + 4 * index)[0])
        return dex[at:dex.index(0, at)].decode("utf-8", "replace")

    return {string(struct.unpack_from("<I", dex, type_ids_off + 4 * struct.unpack_from("<I", dex, class_defs_off
                                                                                         + 32 * i)[0])[0])
            for i in range(class_defs_size)}


def test_apk_is_signed_installable_and_carries_litert_for_arm64(tmp_path):
    app = shutil.copytree(APP, tmp_path / "app", ignore=shutil.ignore_patterns("assets"))
    bundle = app / "src" / "main" / "assets" / "bundle"
    bundle.mkdir(parents=True)
    (bundle / "manifest.json").write_text("{}")
    (bundle / "model_int8.tflite").write_bytes(bytes(4096))
    # The first run downloads the API jars and D8 (~220 MB into ~/.m2); later runs take about a minute.
    proc = subprocess.run(["bash", str(SCRIPT), str(tmp_path / "build"), str(app)], capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, f"build_apk.sh failed:\n{proc.stdout}{proc.stderr}"
    apk = tmp_path / "build" / "fitedge-demo-debug.apk"
    assert f"build_apk: OK {apk}" in proc.stdout, proc.stdout

    verify = subprocess.run(["apksigner", "verify", "--verbose", str(apk)], capture_output=True, text=True,
                            timeout=120)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "Verified using v2 scheme (APK Signature Scheme v2): true" in verify.stdout

    badging = subprocess.run(["aapt", "dump", "badging", str(apk)], capture_output=True, text=True,
                             timeout=60).stdout
    assert re.search(r"^package: name='org\.fitedge\.demo' versionCode='1' versionName='0\.1\.0'", badging, re.M)
    assert re.search(r"^native-code: .*'arm64-v8a'", badging, re.M), badging
    assert "launchable-activity: name='org.fitedge.demo.MainActivity'" in badging
    assert "uses-permission: name='android.permission.RECORD_AUDIO'" in badging
    assert "sdkVersion:'26'" in badging

    with zipfile.ZipFile(apk) as z:
        assert "lib/arm64-v8a/libtensorflowlite_jni.so" in z.namelist()
        assert z.getinfo("resources.arsc").compress_type == zipfile.ZIP_STORED
        assert z.getinfo("assets/bundle/model_int8.tflite").compress_type == zipfile.ZIP_STORED
        assert z.read("assets/bundle/manifest.json") == b"{}"
        classes = dex_class_names(z.read("classes.dex"))
    assert {"Lorg/fitedge/demo/MainActivity;", "Lorg/fitedge/demo/Runners;", "Lorg/fitedge/core/LiveSession;",
            "Lorg/fitedge/core/FrameStream;", "Lorg/tensorflow/lite/Interpreter;", "Lcom/google/gson/Gson;"} <= classes
    # D8 desugared the lambdas (Android has no LambdaMetafactory) into synthetic classes.
    assert [c for c in classes if c.startswith("Lorg/fitedge/demo/MainActivity$$ExternalSyntheticLambda")]
    # The ExecuTorch runner is there, the runtime is not: the app lists .pte artifacts as unavailable.
    assert "Lorg/fitedge/demo/ExecutorchRunner;" in classes
    assert not [c for c in classes if c.startswith("Lorg/pytorch/")]

    tampered = tmp_path / "tampered.apk"
    data = bytearray(apk.read_bytes())
    entry = data.find(b"classes.dex")
    data[entry + 200] ^= 0xFF  # inside the zip data, after the first local header
    tampered.write_bytes(bytes(data))
    refused = subprocess.run(["apksigner", "verify", str(tampered)], capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0
