package org.fitedge.core;

import java.util.Arrays;

/**
 * Fits a waveform to what an artifact accepts, as the manifest says: a fixed-length artifact gets exactly
 * {@code audio.input_samples} (zero-padded at the end or cropped), a dynamic one any length within
 * {@code [audio.min_samples, audio.max_samples]}.
 */
public final class InputShaper {
    private InputShaper() {
    }

    /** The number of samples the artifact will be fed for a clip of {@code available} samples. */
    public static int targetLength(Manifest m, Manifest.Artifact a, int available) {
        if (a.fixedLength()) {
            return m.audio.inputSamples;
        }
        return Math.max(m.audio.minSamples, Math.min(m.audio.maxSamples, available));
    }

    /** {@code wav} padded with zeros or cropped (from the start) to the artifact's input length. */
    public static float[] fit(Manifest m, Manifest.Artifact a, float[] wav) {
        return Arrays.copyOf(wav, targetLength(m, a, wav.length));
    }

    /**
     * A benchmark input of {@code seconds} of audio made by repeating {@code source} (the golden input), so
     * every run of every artifact sees the same realistic signal; fixed-length artifacts ignore
     * {@code seconds}.
     */
    public static float[] benchmarkInput(Manifest m, Manifest.Artifact a, float[] source, double seconds) {
        int wanted = (int) Math.round(seconds * m.audio.sampleRate);
        float[] out = new float[targetLength(m, a, wanted)];
        for (int i = 0; i < out.length; i++) {
            out[i] = source[i % source.length];
        }
        return out;
    }
}
