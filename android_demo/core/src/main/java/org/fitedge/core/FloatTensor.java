package org.fitedge.core;

import java.util.Arrays;

/** A float32 tensor as the runtimes and golden files hand it over: flat C-order data plus a shape. */
public final class FloatTensor {
    public final float[] data;
    private final long[] shape;

    public FloatTensor(float[] data, long[] shape) {
        if (numel(shape) != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + numel(shape)
                    + " values, data has " + data.length);
        }
        this.data = data;
        this.shape = shape.clone();
    }

    public long[] shape() {
        return shape.clone();
    }

    /** Number of values a tensor of {@code shape} holds. */
    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** {@code [1, 99, 480]} style text for the UI and logs. */
    public String shapeText() {
        return Arrays.toString(shape);
    }
}
