package org.fitedge.core;

/**
 * 16-bit PCM to float32 in [-1, 1), the same scaling as soundfile/NumPy ({@code sample / 32768}), so the
 * phone feeds the model what the host feeds it.
 */
public final class Pcm16 {
    private static final float SCALE = 1.0f / 32768.0f;

    private Pcm16() {
    }

    /** Samples as AudioRecord delivers them. */
    public static float[] toFloat(short[] pcm, int count) {
        float[] out = new float[count];
        for (int i = 0; i < count; i++) {
            out[i] = pcm[i] * SCALE;
        }
        return out;
    }

    /**
     * Little-endian interleaved bytes (a WAV data chunk), averaged over {@code channels} to mono.
     */
    public static float[] interleavedToMono(byte[] bytes, int offset, int length, int channels) {
        int frames = length / (2 * channels);
        float[] out = new float[frames];
        int pos = offset;
        for (int f = 0; f < frames; f++) {
            float sum = 0f;
            for (int c = 0; c < channels; c++) {
                short s = (short) ((bytes[pos] & 0xff) | (bytes[pos + 1] << 8));
                sum += s * SCALE;
                pos += 2;
            }
            out[f] = sum / channels;
        }
        return out;
    }
}
