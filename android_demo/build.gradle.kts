// Plugin versions for all modules. AGP 9.1 needs Gradle >= 9.2.1 and JDK 17 (README: "Build").
plugins {
    id("com.android.application") version "9.1.0" apply false
}
