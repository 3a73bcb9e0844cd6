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
    // The tests validate manifests and results against ../../edge/bundle/manifest.schema.json and
    // ../../bench/device/device_results.schema.json (the contracts); the same jars
    // run_tests.sh fetches with test-jars/pom.xml. Test-only: the app parses manifests with gson alone.
    testImplementation("com.networknt:json-schema-validator:1.5.6")
    testImplementation("org.slf4j:slf4j-nop:2.0.16")
}
