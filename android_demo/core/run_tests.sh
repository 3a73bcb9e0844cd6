#!/usr/bin/env bash
# Builds the plain-Java core and runs its JUnit 4 tests without Gradle or the Android SDK, using the Debian
# packages junit4, libhamcrest-java and libgoogle-gson-java (`make system` installs them).
# The tests also validate manifests and the results they write against the repository's
# edge/bundle/manifest.schema.json and bench/device/device_results.schema.json with a JSON Schema
# validator (com.networknt:json-schema-validator and Jackson, test classpath only; the core itself needs gson
# alone). Maven fetches those jars from Maven Central once, into ~/.m2, and they are copied to
# $FITEDGE_CORE_TEST_JARS (default ~/.cache/fitedge/core-test-jars); later runs need neither network nor mvn.
# Usage: android_demo/core/run_tests.sh [BUILD_DIR]   (default: android_demo/core/build/plain)
# With FITEDGE_STREAM_VECTORS=FILE, StreamVectorsTest replays that cross-language streaming vectors file
# (tests/android_demo/test_android_core.py writes it with the Python stream); without it, that test is skipped.
# Prints the JUnit report; exit status 0 only if every test passed. The classpath of the built core is
# written to BUILD_DIR/classpath so that other tools (tests/android_demo/test_android_core.py) can run
# org.fitedge.core.Cli, and the tests' classpath to BUILD_DIR/test-classpath (for org.fitedge.core.ContractSchema manifest|device-results FILE...).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${1:-$here/build/plain}"
jars=(/usr/share/java/gson.jar /usr/share/java/junit4.jar /usr/share/java/hamcrest-core.jar)
repo="$(cd "$here/../.." && pwd)"
test_jars="${FITEDGE_CORE_TEST_JARS:-$HOME/.cache/fitedge/core-test-jars}"

for jar in "${jars[@]}"; do
  if [ ! -r "$jar" ]; then
    echo "run_tests.sh: $jar is missing; install it with: make system  (apt-get install junit4 libhamcrest-java libgoogle-gson-java)" >&2
    exit 3
  fi
done
for tool in javac java; do
  command -v "$tool" >/dev/null || { echo "run_tests.sh: $tool not found; install a JDK 17 (apt-get install openjdk-17-jdk-headless)" >&2; exit 3; }
done

# Fetch once per test-jars/pom.xml version (the stamp names it), like compile-check/compile_check.sh does.
stamp="$test_jars/.fetched-$(sha256sum "$here/test-jars/pom.xml" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  command -v mvn >/dev/null || {
    echo "run_tests.sh: mvn not found; it fetches the JSON Schema validator for the tests once (then cached in" \
      "$test_jars): install it with: apt-get install maven" >&2
    exit 3
  }
  rm -rf "$test_jars" && mkdir -p "$test_jars"
  mvn -B -q -Dstyle.color=never -f "$here/test-jars/pom.xml" dependency:copy-dependencies -Djars="$test_jars" || {
    echo "run_tests.sh: could not fetch the test jars of $here/test-jars/pom.xml from Maven Central" \
      "(offline? they are needed once)" >&2
    exit 3
  }
  touch "$stamp"
fi

rm -rf "$build"
mkdir -p "$build/main" "$build/test"
javac --release 17 -Xlint:all,-serial -Werror -d "$build/main" -cp /usr/share/java/gson.jar \
  $(find "$here/src/main/java" -name '*.java')
echo "$build/main:/usr/share/java/gson.jar" > "$build/classpath"

test_cp="$build/main:$(IFS=:; echo "${jars[*]}"):$(find "$test_jars" -name '*.jar' | sort | paste -sd:)"
# -classfile: Jackson's jars carry annotations from libraries they do not ship (a warning per use, not our code's).
javac --release 17 -Xlint:all,-serial,-classfile -Werror -d "$build/test" -cp "$test_cp" \
  $(find "$here/src/test/java" -name '*.java')
echo "$build/test:$test_cp" > "$build/test-classpath"
classes=$(cd "$here/src/test/java" && find . -name '*Test.java' | sed 's|^\./||; s|\.java$||; s|/|.|g' | sort)
# shellcheck disable=SC2086  # one class name per word
java -D"fitedge.manifest.schema=$repo/edge/bundle/manifest.schema.json" \
  -D"fitedge.device_results.schema=$repo/bench/device/device_results.schema.json" \
  -D"fitedge.streamVectors=${FITEDGE_STREAM_VECTORS:-}" -cp "$build/test:$test_cp" org.junit.runner.JUnitCore $classes
