// fitedge Android demo: the app (:app) over a plain-Java core (:core) that also builds and tests without the
// Android SDK (core/run_tests.sh). See README.md for the steps from `fitedge export` to a running phone.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()        // LiteRT (com.google.ai.edge.litert) is published on Google's Maven repository
        mavenCentral()  // ExecuTorch (org.pytorch:executorch-android), gson, junit
    }
}

rootProject.name = "fitedge-demo"
include(":app", ":core")
