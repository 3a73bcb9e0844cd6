#!/usr/bin/env bash
# Builds an installable, debug-signed APK of android_demo/app without Gradle or the Android SDK, with the LiteRT
# runtime only (the Maven repository reachable here serves no ExecuTorch AAR; the app then lists .pte artifacts as
# unavailable), and checks it with `aapt dump badging` and `apksigner verify`.
#   1. compile-check/compile_check.sh: R.java (aapt), BuildConfig, javac --release 17 against the API jars; its
#      classes are reused here minus the ExecuTorch signature stand-in, which must not ship;
#   2. D8 (com.android.tools:r8 from Maven Central) dexes them with TFLite's classes.jar files and gson,
#      desugaring lambdas for API 26;
#   3. Debian's aapt packages manifest, res/, the bundle assets if exported into app/src/main/assets, the dex and
#      TFLite's arm64-v8a and x86_64 JNI libraries; zipalign; apksigner signs with a debug keystore generated once.
# Usage: build_apk.sh [BUILD_DIR] [APP_DIR]   (defaults: android_demo/apk/build, android_demo/app); writes
# BUILD_DIR/fitedge-demo-debug.apk.
# Downloads are cached in ~/.m2, $FITEDGE_ANDROID_JARS (see compile_check.sh) and $FITEDGE_APK_TOOLS (default
# ~/.cache/fitedge/apk-tools: d8 and the debug keystore).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${1:-$here/build}"
[ -f "${2:-$here/../app}/build.gradle.kts" ] || {
  echo "build_apk.sh: ${2:-$here/../app} is not the demo app (no build.gradle.kts)" >&2; exit 2; }
app="$(cd "${2:-$here/../app}" && pwd)"
jars="${FITEDGE_ANDROID_JARS:-$HOME/.cache/fitedge/android-jars}"
tools="${FITEDGE_APK_TOOLS:-$HOME/.cache/fitedge/apk-tools}"
framework_res=/usr/share/android-framework-res/framework-res.apk
r8_version=8.7.18   # D8/R8 release line that runs on JDK 17 and reads its class files
abis=(arm64-v8a x86_64)   # the app's abiFilters (app/build.gradle.kts)

for tool in javac java jar keytool mvn aapt zipalign apksigner unzip; do
  command -v "$tool" >/dev/null || {
    echo "build_apk.sh: $tool not found; install it with: apt-get install openjdk-17-jdk-headless maven aapt" \
      "android-framework-res zipalign apksigner unzip" >&2
    exit 3
  }
done

rm -rf "$build" && mkdir -p "$build/raw/lib" "$build/dex"
bash "$here/../compile-check/compile_check.sh" "$app" "$build/compile" | grep -v '^compile_check: ExecuTorch API'
rm -rf "$build/compile/classes/org/pytorch"
(cd "$build/compile/classes" && jar cf "$build/app-classes.jar" .)

d8="$tools/r8-$r8_version.jar"
# The same lock as compile_check.sh's fetch: one Maven download into ~/.m2 at a time.
exec 9>"$jars.lock"
flock 9
if [ ! -f "$d8" ]; then
  mkdir -p "$tools"
  mvn -B -q -Dstyle.color=never org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact="com.android.tools:r8:$r8_version" -DoutputDirectory="$tools" || {
    echo "build_apk.sh: could not fetch com.android.tools:r8:$r8_version (D8) from Maven Central (offline?)" >&2
    exit 3
  }
fi
flock -u 9
java_home="$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")"
java -cp "$d8" com.android.tools.r8.D8 --debug --min-api 26 --lib "$jars/android-all.jar" --lib "$java_home" \
  --output "$build/dex" "$build/app-classes.jar" "$jars/tensorflow-lite/classes.jar" \
  "$jars/tensorflow-lite-api/classes.jar" "$jars/gson.jar"
cp "$build/dex/classes.dex" "$build/raw/"
for abi in "${abis[@]}"; do
  unzip -q -o -j -d "$build/raw/lib/$abi" "$jars/tensorflow-lite.aar" "jni/$abi/*.so"
done

namespace=$(sed -n 's/^ *namespace = "\(.*\)"/\1/p' "$app/build.gradle.kts")
gradle_value() { sed -n "s/^ *$1 = \"\{0,1\}\([^\"]*\)\"\{0,1\}$/\1/p" "$app/build.gradle.kts"; }
assets=()
[ -d "$app/src/main/assets" ] && assets=(-A "$app/src/main/assets")
# Stored, not deflated: models and golden files (as build.gradle.kts' noCompress) and resources.arsc, which
# Android 11+ requires uncompressed for targetSdk >= 30.
aapt package -f -M "$build/compile/manifest/AndroidManifest.xml" -S "$app/src/main/res" -I "$framework_res" \
  "${assets[@]}" --min-sdk-version "$(gradle_value minSdk)" --target-sdk-version "$(gradle_value targetSdk)" \
  --version-code "$(gradle_value versionCode)" --version-name "$(gradle_value versionName)" \
  -0 arsc -0 pte -0 tflite -0 onnx -0 bin -0 npy -F "$build/unaligned.apk" "$build/raw"
zipalign -p -f 4 "$build/unaligned.apk" "$build/aligned.apk"

keystore="$tools/debug.keystore"
if [ ! -f "$keystore" ]; then
  mkdir -p "$tools"
  keytool -genkeypair -keystore "$keystore" -storepass android -keypass android -alias androiddebugkey \
    -keyalg RSA -keysize 2048 -validity 10000 -dname "CN=Android Debug,O=Android,C=US" >/dev/null 2>&1
fi
apk="$build/fitedge-demo-debug.apk"
apksigner sign --ks "$keystore" --ks-pass pass:android --key-pass pass:android --ks-key-alias androiddebugkey \
  --out "$apk" "$build/aligned.apk"
rm -f "$build/unaligned.apk" "$build/aligned.apk" "$apk.idsig"

apksigner verify --verbose "$apk" > "$build/verify.txt"
aapt dump badging "$apk" > "$build/badging.txt"
grep -q "^package: name='$namespace'" "$build/badging.txt" || {
  echo "build_apk.sh: $apk does not name package $namespace" >&2; exit 1; }
echo "build_apk: OK $apk ($(( $(stat -c %s "$apk") / 1024 )) KiB): $(grep '^native-code' "$build/badging.txt")," \
  "$(grep -c 'true$' "$build/verify.txt") signature schemes verified, assets:" \
  "$([ ${#assets[@]} -gt 0 ] && echo "app/src/main/assets" || echo "none (no exported bundle)")"
