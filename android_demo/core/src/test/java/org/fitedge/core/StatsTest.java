package org.fitedge.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import org.junit.Test;

public class StatsTest {
    @Test
    public void matchesNumpyConventions() {
        // np.percentile([4, 1, 3, 2], [50, 90, 99]) = [2.5, 3.7, 3.97]; np.std(..) = sqrt(1.25)
        Stats s = Stats.of(new double[] {4, 1, 3, 2});
        assertEquals(2.5, s.mean, 1e-12);
        assertEquals(Math.sqrt(1.25), s.std, 1e-12);
        assertEquals(2.5, s.p50, 1e-12);
        assertEquals(3.7, s.p90, 1e-12);
        assertEquals(3.97, s.p99, 1e-12);
        assertEquals(1.0, s.min, 0);
        assertEquals(4.0, s.max, 0);
    }

    @Test
    public void oddCountMedianIsTheMiddleValue() {
        Stats s = Stats.of(new double[] {10, 30, 20, 50, 40});
        assertEquals(30.0, s.p50, 0);
        // rank 0.9 * 4 = 3.6 -> 40 + 0.6 * 10
        assertEquals(46.0, s.p90, 1e-12);
    }

    @Test
    public void singleValueAndEmpty() {
        Stats s = Stats.of(new float[] {7f});
        assertEquals(7.0, s.p99, 0);
        assertEquals(0.0, s.std, 0);
        assertThrows(IllegalArgumentException.class, () -> Stats.of(new double[0]));
    }
}
