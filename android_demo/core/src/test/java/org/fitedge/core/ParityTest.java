package org.fitedge.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.List;
import org.junit.Test;

public class ParityTest {
    @Test
    public void identicalTensorsAreAPerfectMatch() {
        Parity p = Parity.compare(new float[] {1, -2, 3}, new float[] {1, -2, 3});
        assertEquals(1.0, p.cosine, 1e-12);
        assertEquals(0.0, p.maxAbsDiff, 0);
        assertEquals(Double.POSITIVE_INFINITY, p.snrDb, 0);
    }

    @Test
    public void knownValues() {
        Parity orthogonal = Parity.compare(new float[] {1, 0}, new float[] {0, 1});
        assertEquals(0.0, orthogonal.cosine, 1e-12);
        assertEquals(1.0, orthogonal.maxAbsDiff, 0);
        // signal energy 2, noise energy 0.02 -> 10 log10(100) = 20 dB
        Parity noisy = Parity.compare(new float[] {1, 1}, new float[] {1.1f, 0.9f});
        assertEquals(20.0, noisy.snrDb, 1e-5);
        assertEquals(0.1, noisy.maxAbsDiff, 1e-6);
        assertEquals(2.0 / Math.sqrt(2 * (1.21 + 0.81)), noisy.cosine, 1e-7);
        assertEquals(-1.0, Parity.compare(new float[] {1, 2}, new float[] {-1, -2}).cosine, 1e-12);
    }

    @Test
    public void zeroTensors() {
        assertEquals(1.0, Parity.compare(new float[] {0, 0}, new float[] {0, 0}).cosine, 0);
        assertEquals(0.0, Parity.compare(new float[] {0, 0}, new float[] {0, 1}).cosine, 0);
    }

    @Test
    public void thresholdsNameWhatFailed() {
        Manifest.Thresholds fp32 = new Manifest.Thresholds();
        fp32.minCosine = 0.99999;
        fp32.maxAbsDiff = 1e-3;
        assertTrue(Parity.compare(new float[] {1, 2}, new float[] {1, 2.0005f}).failures(fp32).isEmpty());
        List<String> fails = Parity.compare(new float[] {1, 2}, new float[] {1, 2.5f}).failures(fp32);
        assertEquals(2, fails.size());
        assertTrue(fails.get(0), fails.get(0).startsWith("cosine"));
        assertTrue(fails.get(1), fails.get(1).startsWith("max abs diff"));
        Manifest.Thresholds int8 = new Manifest.Thresholds();
        int8.minCosine = 0.98;
        assertTrue(Parity.compare(new float[] {1, 2}, new float[] {1, 2.5f}).failures(int8).isEmpty());
    }

    @Test
    public void lengthsMustMatch() {
        assertThrows(IllegalArgumentException.class, () -> Parity.compare(new float[] {1}, new float[] {1, 2}));
    }
}
