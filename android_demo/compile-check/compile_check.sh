#!/usr/bin/env bash
# Compiles android_demo/app (with :core) the way AGP's javac step would, against real API jars, without the
# Android SDK: the Android 15 framework (API 35, Robolectric's android-all), TFLite's Interpreter API (what LiteRT
# ships) and gson from Maven Central; ExecuTorch's executorch-android 1.4.1 AAR when the Maven repository serves
# it, else the signature stand-in in executorch-api/ (said on stdout). R.java comes from Debian's aapt over the
# app's res/ and manifest, BuildConfig.java from app/build.gradle.kts. Any call to an API that does not exist is
# a compile error and a non-zero exit.
# Usage: compile_check.sh [APP_DIR] [BUILD_DIR]   (defaults: android_demo/app, android_demo/compile-check/build)
# Jars are cached in ~/.m2 and $FITEDGE_ANDROID_JARS (default ~/.cache/fitedge/android-jars).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
app="$(cd "${1:-$here/../app}" && pwd)"
core="$here/../core"
build="${2:-$here/build}"
jars="${FITEDGE_ANDROID_JARS:-$HOME/.cache/fitedge/android-jars}"
framework_res=/usr/share/android-framework-res/framework-res.apk

for tool in javac mvn aapt unzip; do
  command -v "$tool" >/dev/null || {
    echo "compile_check.sh: $tool not found; install it with:" \
      "apt-get install openjdk-17-jdk-headless maven aapt android-framework-res unzip" >&2
    exit 3
  }
done
[ -r "$framework_res" ] || {
  echo "compile_check.sh: $framework_res missing; install it with: apt-get install android-framework-res" >&2
  exit 3
}

# Fetch once per pom.xml version; Maven keeps the downloads in ~/.m2, this folder keeps the unpacked classes.
# One fetch at a time (the test suite runs in parallel, and the APK build calls this script): a second build waits
# for the lock, then finds the stamp, instead of deleting the folder under the first.
mkdir -p "$(dirname "$jars")"
exec 9>"$jars.lock"
flock 9
stamp="$jars/.fetched-$(sha256sum "$here/pom.xml" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  rm -rf "$jars" && mkdir -p "$jars"
  mvn -B -q -f "$here/pom.xml" dependency:copy -Djars="$jars"
  # Not every Maven repository serves ExecuTorch; a refusal is remembered here (and by Maven for a day).
  (cd "$jars" && mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy -Dmdep.stripVersion=true \
    -Dartifact=org.pytorch:executorch-android:1.4.1:aar -DoutputDirectory="$jars" >/dev/null 2>&1) || true
  for aar in "$jars"/*.aar; do
    unzip -q -o -d "$jars/$(basename "$aar" .aar)" "$aar" classes.jar
  done
  touch "$stamp"
fi
flock -u 9
classpath="$jars/android-all.jar:$jars/tensorflow-lite/classes.jar:$jars/tensorflow-lite-api/classes.jar:$jars/gson.jar"
if [ -f "$jars/executorch-android/classes.jar" ]; then
  classpath="$classpath:$jars/executorch-android/classes.jar"
  echo "compile_check: ExecuTorch API from org.pytorch:executorch-android:1.4.1"
else
  executorch_api="$here/executorch-api"
  echo "compile_check: ExecuTorch API from the stand-in $executorch_api (executorch-android 1.4.1 not served)"
fi

rm -rf "$build" && mkdir -p "$build/gen" "$build/manifest" "$build/classes"
# AGP 9 takes the package from build.gradle.kts' `namespace` and injects it into the merged manifest; Debian's
# aapt (Android 10) still wants it in the manifest, so it gets a copy with the attribute, as AGP would write.
namespace=$(sed -n 's/^ *namespace = "\(.*\)"/\1/p' "$app/build.gradle.kts")
sed "s|<manifest |<manifest package=\"$namespace\" |" "$app/src/main/AndroidManifest.xml" \
  > "$build/manifest/AndroidManifest.xml"
# Android 10's framework resources, not 16's: aapt 10 cannot read API 36's resources.arsc. The app's R ids do
# not depend on it; only android:* attributes newer than API 29 would be wrongly refused.
aapt package -f -m -J "$build/gen" -M "$build/manifest/AndroidManifest.xml" -S "$app/src/main/res" \
  -I "$framework_res"
# The BuildConfig fields the app reads, with the values build.gradle.kts gives them.
version_name=$(sed -n 's/^ *versionName = "\(.*\)"/\1/p' "$app/build.gradle.kts")
version_code=$(sed -n 's/^ *versionCode = \([0-9]*\)/\1/p' "$app/build.gradle.kts")
mkdir -p "$build/gen/${namespace//.//}"
cat > "$build/gen/${namespace//.//}/BuildConfig.java" <<EOF
package $namespace;

public final class BuildConfig {
    public static final boolean DEBUG = true;
    public static final String APPLICATION_ID = "$namespace";
    public static final String BUILD_TYPE = "debug";
    public static final int VERSION_CODE = $version_code;
    public static final String VERSION_NAME = "$version_name";
}
EOF

sources=$(find "$app/src/main/java" "$core/src/main/java" "$build/gen" ${executorch_api:+"$executorch_api"} \
  -name '*.java')
start=$EPOCHREALTIME
# -classfile: android-all's classes carry annotations whose classes it lacks, a warning per use, not our code's.
# shellcheck disable=SC2086  # one path per word
javac --release 17 -Xlint:all,-serial,-classfile -Werror -implicit:none -d "$build/classes" \
  -cp "$classpath" $sources
seconds=$(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $start }")
echo "compile_check: OK, $(echo "$sources" | wc -l) sources of android_demo/app + core compiled against" \
  "android-all API 35, tensorflow-lite 2.16.1, gson 2.10.1 in $seconds s"
