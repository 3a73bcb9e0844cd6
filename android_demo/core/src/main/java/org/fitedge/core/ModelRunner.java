package org.fitedge.core;

import java.util.List;

/**
 * One loaded artifact, whatever the runtime (the app binds ExecuTorch and LiteRT behind it). Plain Java so
 * the self-test and benchmark logic that drive it are tested off the phone.
 */
public interface ModelRunner extends AutoCloseable {
    /** Runs on a mono float32 waveform fed as shape {@code [1, wav.length]}; outputs in manifest order. */
    List<FloatTensor> run(float[] wav) throws InferenceException;

    /** The manifest's runtime name: {@code executorch}, {@code litert}, ... */
    String runtime();

    /** Frees native memory; no exception, so it can be used in try-with-resources. */
    @Override
    void close();

    /** Opens an artifact; the benchmark times this as the load time. */
    interface Opener {
        ModelRunner open(Manifest.Artifact artifact, int threads) throws BundleException, InferenceException;
    }

    /** A runtime failed while loading or running a model; the message comes from the runtime. */
    final class InferenceException extends Exception {
        public InferenceException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
