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

    /** An opener for artifacts of the bundle in {@code dir} (the benchmark times what it does as load time). */
    static ModelRunner.Opener in(Path dir) {
        return (artifact, threads) -> open(dir, artifact, threads);
    }

    static ModelRunner open(Path dir, Manifest.Artifact a, int threads)
            throws BundleException, ModelRunner.InferenceException {
        String path = dir.resolve(a.file).toString();
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
