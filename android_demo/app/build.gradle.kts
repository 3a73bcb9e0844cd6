plugins {
    id("com.android.application")
}

android {
    namespace = "org.fitedge.demo"
    compileSdk = 36

    defaultConfig {
        applicationId = "org.fitedge.demo"
        // java.nio.file (used by :core for bundle files) is available from API 26.
        minSdk = 26
        targetSdk = 36
        versionCode = 1
        versionName = "0.1.0"
        // Both runtime AARs ship these two ABIs (phones and the x86_64 emulator).
        ndk {
            abiFilters += listOf("arm64-v8a", "x86_64")
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    // Models and golden tensors are copied out of the APK byte for byte and sha256-checked; storing them
    // uncompressed keeps that copy fast and the hashes meaningful.
    androidResources {
        noCompress += listOf("pte", "tflite", "onnx", "bin", "npy")
    }

    // The ExecuTorch AAR (through fbjni) and LiteRT may both carry the C++ runtime; one copy serves both.
    packaging {
        jniLibs {
            pickFirsts += "**/libc++_shared.so"
        }
    }

    buildFeatures {
        buildConfig = true
    }

    buildTypes {
        release {
            isMinifyEnabled = false
        }
    }
}

dependencies {
    implementation(project(":core"))
    // ExecuTorch Java API (org.pytorch.executorch.Module/Tensor/EValue) with the XNNPACK backend. Keep this in
    // step with the Python executorch that exported the .pte (1.4.x in requirements.lock): a .pte needs a
    // runtime of the same release line for its format version and operator set.
    implementation("org.pytorch:executorch-android:1.4.1")
    // LiteRT (successor of org.tensorflow:tensorflow-lite) with the classic org.tensorflow.lite.Interpreter API,
    // CPU only in the 2.x line; matches ai-edge-litert 2.3.0 that converted and verified the .tflite on the host.
    implementation("com.google.ai.edge.litert:litert:2.3.0")
}
