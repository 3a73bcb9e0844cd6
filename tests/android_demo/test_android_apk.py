"""The installable APK (``android_demo/apk/build_apk.sh``, ``make apk``): LiteRT-only, debug-signed, checked.

The script builds it from the real app with real tools (javac against the Android API jars, D8 from Maven
Central, Debian's aapt, zipalign and apksigner); here the APK's signature is verified again with apksigner, a
tampered copy is refused, and its badging names the package, the launcher activity, the microphone permission and
arm64-v8a native code. No skips: a missing tool fails with the install line the script prints.
"""

from __future__ import annotations

import re
import subprocess
import zipfile

from tests.helpers import REPO

SCRIPT = REPO / "android_demo" / "apk" / "build_apk.sh"


def test_apk_is_signed_installable_and_carries_litert_for_arm64(tmp_path):
    # The first run downloads the API jars and D8 (~220 MB into ~/.m2); later runs take about a minute.
    proc = subprocess.run(["bash", str(SCRIPT), str(tmp_path / "build")], capture_output=True, text=True,
                          timeout=900)
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
        dex = z.read("classes.dex")
    for type_name in (b"Lorg/fitedge/demo/MainActivity;", b"Lorg/fitedge/core/LiveSession;",
                      b"Lorg/fitedge/core/FrameStream;", b"Lorg/tensorflow/lite/Interpreter;",
                      b"Lcom/google/gson/Gson;"):
        assert type_name in dex, type_name

    tampered = tmp_path / "tampered.apk"
    data = bytearray(apk.read_bytes())
    entry = data.find(b"classes.dex")
    data[entry + 200] ^= 0xFF  # inside the zip data, after the first local header
    tampered.write_bytes(bytes(data))
    refused = subprocess.run(["apksigner", "verify", str(tampered)], capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0
