package org.fitedge.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The streaming contract's deterministic fake model (the same one NumPy computes on the Python side), standing
 * in for a window-sized artifact: for a window x it returns F frames of D = 4 float32 features, frame j being
 * [mean, max, min, last] of {@code x[j*H, j*H + R)}; the features double as CTC logits over 4 tokens.
 */
class FakeStreamModel implements ModelRunner {
    static final int DIM = 4;
    final StreamGeometry geometry;
    final List<float[]> windows = new ArrayList<>();

    FakeStreamModel(StreamGeometry geometry) {
        this.geometry = geometry;
    }

    /** The frame of samples {@code x[start, start + R)}. */
    static float[] frame(float[] x, int start, int receptive) {
        float sum = 0f;
        float max = Float.NEGATIVE_INFINITY;
        float min = Float.POSITIVE_INFINITY;
        for (int i = start; i < start + receptive; i++) {
            sum += x[i];
            max = Math.max(max, x[i]);
            min = Math.min(min, x[i]);
        }
        return new float[] {sum / receptive, max, min, x[start + receptive - 1]};
    }

    @Override
    public List<FloatTensor> run(float[] wav) {
        if (wav.length != geometry.windowSamples()) {
            throw new IllegalArgumentException("fed " + wav.length + " samples, the window is " + geometry.windowSamples());
        }
        windows.add(wav.clone());
        int frames = geometry.windowFrames();
        float[] out = new float[frames * DIM];
        for (int j = 0; j < frames; j++) {
            System.arraycopy(frame(wav, j * geometry.hopSamples, geometry.receptiveSamples), 0, out, j * DIM, DIM);
        }
        return Collections.singletonList(new FloatTensor(out, new long[] {1, frames, DIM}));
    }

    @Override
    public String runtime() {
        return "fake";
    }

    @Override
    public void close() {
    }
}
