package org.fitedge.core;

/**
 * The integer input of an artifact exported with {@code fitedge export --integer-io} (LiteRT static int8): the
 * manifest entry's {@code input_quantization}. Every other artifact takes float32 audio and has none.
 *
 * <p>{@link #quantize} is the same arithmetic as the Python runner's: {@code clip(round(x / scale + zero_point))}
 * with round-half-to-even (NumPy's {@code np.round}), so both feed the model identical bytes.
 */
public final class InputQuantization {
    public String dtype;
    public double scale;
    public int zeroPoint;

    public InputQuantization() {
    }

    public InputQuantization(String dtype, double scale, int zeroPoint) {
        this.dtype = dtype;
        this.scale = scale;
        this.zeroPoint = zeroPoint;
    }

    /** Float audio as the model's integer input; {@code uint8} values are returned as their two's-complement bytes. */
    public byte[] quantize(float[] wav) throws BundleException {
        int low;
        int high;
        if ("int8".equals(dtype)) {
            low = -128;
            high = 127;
        } else if ("uint8".equals(dtype)) {
            low = 0;
            high = 255;
        } else {
            throw new BundleException("input_quantization dtype " + dtype + " is not supported (int8 or uint8)");
        }
        if (!(scale > 0)) {
            throw new BundleException("input_quantization scale must be > 0, got " + scale);
        }
        byte[] out = new byte[wav.length];
        for (int i = 0; i < wav.length; i++) {
            // float32 arithmetic, as NumPy on a float32 array, then round half to even.
            double q = Math.rint(wav[i] / (float) scale + zeroPoint);
            out[i] = (byte) (int) Math.max(low, Math.min(high, q));
        }
        return out;
    }
}
