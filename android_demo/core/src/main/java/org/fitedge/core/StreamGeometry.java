package org.fitedge.core;

/**
 * Where the windows of a streamed encoder lie, in samples at 16 kHz (the streaming contract shared with the
 * Python stream): output frame {@code g} of the full utterance covers samples {@code [g*H, g*H + R)}; window
 * {@code k} covers frames {@code [k*C - L, k*C + C + Q)} and emits its middle {@code C} frames.
 */
public final class StreamGeometry {
    /** C: frames emitted per window. */
    public final int chunkFrames;
    /** L: frames of left context before them. */
    public final int leftFrames;
    /** Q: frames of right context after them (look-ahead). */
    public final int rightFrames;
    /** H: samples between output frames. */
    public final int hopSamples;
    /** R: samples the first output frame depends on through the conv front end. */
    public final int receptiveSamples;

    public StreamGeometry(int chunkFrames, int leftFrames, int rightFrames, int hopSamples, int receptiveSamples) {
        if (chunkFrames < 1 || leftFrames < 0 || rightFrames < 0 || hopSamples < 1 || receptiveSamples < hopSamples) {
            throw new IllegalArgumentException("stream geometry needs C >= 1, L >= 0, Q >= 0, H >= 1 and R >= H; got C="
                    + chunkFrames + " L=" + leftFrames + " Q=" + rightFrames + " H=" + hopSamples
                    + " R=" + receptiveSamples);
        }
        this.chunkFrames = chunkFrames;
        this.leftFrames = leftFrames;
        this.rightFrames = rightFrames;
        this.hopSamples = hopSamples;
        this.receptiveSamples = receptiveSamples;
    }

    /** The manifest's {@code streaming} section, checked; an error naming the fix when the bundle has none. */
    public static StreamGeometry of(Manifest m) throws BundleException {
        Manifest.Streaming s = m.streaming;
        if (s == null) {
            throw new BundleException("this bundle has no streaming section: export a streaming artifact to use Live mode");
        }
        if (s.chunkFrames == null || s.leftFrames == null || s.rightFrames == null || s.frameHopSamples == null
                || s.receptiveFieldSamples == null || s.windowSamples == null) {
            throw new BundleException("manifest field streaming needs chunk_frames, left_frames, right_frames,"
                    + " frame_hop_samples, receptive_field_samples and window_samples");
        }
        StreamGeometry g;
        try {
            g = new StreamGeometry(s.chunkFrames, s.leftFrames, s.rightFrames, s.frameHopSamples,
                    s.receptiveFieldSamples);
        } catch (IllegalArgumentException e) {
            throw new BundleException("manifest field streaming: " + e.getMessage(), e);
        }
        if (g.windowSamples() != s.windowSamples) {
            throw new BundleException("manifest field streaming.window_samples is " + s.windowSamples
                    + " but (L + C + Q - 1) * H + R = " + g.windowSamples());
        }
        return g;
    }

    /** F = L + C + Q: frames a window computes. */
    public int windowFrames() {
        return leftFrames + chunkFrames + rightFrames;
    }

    /** N = (F - 1) * H + R: the samples of one window, i.e. a static artifact's input length. */
    public int windowSamples() {
        return (windowFrames() - 1) * hopSamples + receptiveSamples;
    }

    /** s_k = (k*C - L) * H: the first sample of window {@code k} (negative ones are zeros). */
    public long windowStart(long k) {
        return (k * chunkFrames - leftFrames) * hopSamples;
    }

    /** T: the frames the full-utterance model gives for {@code samples} samples of audio. */
    public long totalFrames(long samples) {
        return samples < receptiveSamples ? 0 : (samples - receptiveSamples) / hopSamples + 1;
    }

    /** (C + Q) * H + (R - H) samples in ms: how long a frame waits for its input, compute time aside. */
    public double algorithmicLatencyMs(int sampleRate) {
        long samples = (long) (chunkFrames + rightFrames) * hopSamples + receptiveSamples - hopSamples;
        return samples * 1000.0 / sampleRate;
    }
}
