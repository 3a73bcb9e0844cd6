// Plain Java (no Android imports): the same sources run_tests.sh compiles with javac and Debian's jars.
plugins {
    `java-library`
}

java {
    sourceCompatibility = JavaVersion.VERSION_17
    targetCompatibility = JavaVersion.VERSION_17
}

dependencies {
    // Manifest.Model.config is a gson JsonObject, so gson is part of the core's API.
    api("com.google.code.gson:gson:2.10.1")
    testImplementation("junit:junit:4.13.2")
}
