#!/usr/bin/env bash
# Builds the plain-Java core and runs its JUnit 4 tests without Gradle or the Android SDK, using the Debian
# packages junit4, libhamcrest-java and libgoogle-gson-java (`make system` installs them).
# Usage: android_demo/core/run_tests.sh [BUILD_DIR]   (default: android_demo/core/build/plain)
# Prints the JUnit report; exit status 0 only if every test passed. The classpath of the built core is
# written to BUILD_DIR/classpath so that other tools (tests/android_demo/test_android_core.py) can run
# org.fitedge.core.Cli.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${1:-$here/build/plain}"
jars=(/usr/share/java/gson.jar /usr/share/java/junit4.jar /usr/share/java/hamcrest-core.jar)

for jar in "${jars[@]}"; do
  if [ ! -r "$jar" ]; then
    echo "run_tests.sh: $jar is missing; install it with: make system  (apt-get install junit4 libhamcrest-java libgoogle-gson-java)" >&2
    exit 3
  fi
done
for tool in javac java; do
  command -v "$tool" >/dev/null || { echo "run_tests.sh: $tool not found; install a JDK 17 (apt-get install openjdk-17-jdk-headless)" >&2; exit 3; }
done

rm -rf "$build"
mkdir -p "$build/main" "$build/test"
javac --release 17 -Xlint:all,-serial -Werror -d "$build/main" -cp /usr/share/java/gson.jar \
  $(find "$here/src/main/java" -name '*.java')
echo "$build/main:/usr/share/java/gson.jar" > "$build/classpath"

test_cp="$build/main:$(IFS=:; echo "${jars[*]}")"
javac --release 17 -Xlint:all,-serial -Werror -d "$build/test" -cp "$test_cp" $(find "$here/src/test/java" -name '*.java')
classes=$(cd "$here/src/test/java" && find . -name '*Test.java' | sed 's|^\./||; s|\.java$||; s|/|.|g' | sort)
# shellcheck disable=SC2086  # one class name per word
java -cp "$build/test:$test_cp" org.junit.runner.JUnitCore $classes
