package org.fitedge.demo;

import java.nio.file.Path;
import org.fitedge.core.BundleException;
import org.fitedge.core.Manifest;
import org.fitedge.core.ModelRunner;

/** Picks the runtime binding for an artifact, with a message a person can act on when this build lacks it. */
final class Runners {
    /** The runtimes this APK links, by their manifest names. */
    static final String BUILT_IN = "executorch, litert";

    private Runners() {
    }

    /**
     * Why this APK cannot run artifact {@code a}, or null if it can. The script-built APK (android_demo/apk)
     * carries LiteRT only, as the Maven repository it is built from serves no ExecuTorch AAR: there the runtime's
     * classes are absent, and its {@code .pte} artifacts are listed as unavailable instead of failing to link.
     */
    static String unavailable(Manifest.Artifact a) {
        if (!"executorch".equals(a.runtime)) {
            return null;
        }
        try {
            Class.forName("org.pytorch.executorch.Module", false, Runners.class.getClassLoader());
            return null;
        } catch (ClassNotFoundException e) {
            return "this APK was built without the ExecuTorch runtime (org.pytorch:executorch-android); pick a"
                    + " .tflite artifact or build with Gradle";
        }
    }

    /** An opener for artifacts of the bundle in {@code dir} (the benchmark times what it does as load time). */
    static ModelRunner.Opener in(Path dir) {
        return (artifact, threads) -> open(dir, artifact, threads);
    }

    static ModelRunner open(Path dir, Manifest.Artifact a, int threads)
            throws BundleException, ModelRunner.InferenceException {
        String path = dir.resolve(a.file).toString();
        String reason = unavailable(a);
        if (reason != null) {
            throw new BundleException(a.file + ": " + reason);
        }
        try {
            switch (a.runtime) {
                case "executorch":
                    return new ExecutorchRunner(path, threads);
                case "litert":
                    return new LitertRunner(path, threads, a.inputQuantization);
                default:
                    throw new BundleException(a.file + " is a " + a.runtime + " artifact; this app build runs "
                            + BUILT_IN + ". Pick a .pte or .tflite artifact, or export with --targets pte,tflite.");
            }
        } catch (UnsatisfiedLinkError e) {
            // The AARs ship arm64-v8a and x86_64 only; other ABIs have no native runtime library.
            throw new BundleException("the " + a.runtime + " native library is not available on this device ("
                    + android.os.Build.SUPPORTED_ABIS[0] + "): " + e.getMessage());
        }
    }
}
