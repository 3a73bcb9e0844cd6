package org.fitedge.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertThrows;

import org.junit.Test;

public class InputQuantizationTest {
    @Test
    public void roundsHalfToEvenAndClipsToInt8() throws Exception {
        InputQuantization q = new InputQuantization("int8", 0.5, 2);
        // x / 0.5 + 2: 0.25 -> 2.5 -> 2 (even), 0.75 -> 3.5 -> 4, -70 -> -138 -> -128, 70 -> 142 -> 127
        assertArrayEquals(new byte[] {2, 4, -128, 127, 2}, q.quantize(new float[] {0.25f, 0.75f, -70f, 70f, 0f}));
    }

    @Test
    public void uint8KeepsItsRangeAsUnsignedBytes() throws Exception {
        InputQuantization q = new InputQuantization("uint8", 1.0, 128);
        byte[] out = q.quantize(new float[] {-200f, 0f, 127f, 200f});
        assertArrayEquals(new int[] {0, 128, 255, 255},
                new int[] {out[0] & 0xFF, out[1] & 0xFF, out[2] & 0xFF, out[3] & 0xFF});
    }

    @Test
    public void refusesAnUnknownTypeOrScale() {
        assertThrows(BundleException.class, () -> new InputQuantization("int16", 1.0, 0).quantize(new float[1]));
        assertThrows(BundleException.class, () -> new InputQuantization("int8", 0.0, 0).quantize(new float[1]));
    }
}
