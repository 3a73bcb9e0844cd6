package org.fitedge.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import org.junit.Test;

public class InputShaperTest {
    private static final String SHA = "00".repeat(32);

    private static Manifest manifest(String isStatic) throws BundleException {
        return ManifestReader.parse(TestBundles.manifestJson(SHA, SHA, SHA, isStatic), "m");
    }

    @Test
    public void fixedLengthPadsWithZerosAndCropsTheEnd() throws Exception {
        Manifest m = manifest("true");
        Manifest.Artifact a = m.artifacts.get(0);
        assertArrayEquals(new float[] {1, 2, 3, 0, 0, 0, 0, 0}, InputShaper.fit(m, a, new float[] {1, 2, 3}), 0f);
        float[] longer = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, InputShaper.fit(m, a, longer), 0f);
    }

    @Test
    public void dynamicKeepsLengthsWithinTheBounds() throws Exception {
        Manifest m = manifest("false");
        Manifest.Artifact a = m.artifacts.get(0);
        assertEquals(4, InputShaper.targetLength(m, a, 1));
        assertEquals(10, InputShaper.targetLength(m, a, 10));
        assertEquals(12, InputShaper.targetLength(m, a, 100));
    }

    @Test
    public void benchmarkInputRepeatsTheSource() throws Exception {
        Manifest m = manifest("false");
        float[] in = InputShaper.benchmarkInput(m, m.artifacts.get(0), new float[] {1, 2, 3}, 7 / 16000.0);
        assertArrayEquals(new float[] {1, 2, 3, 1, 2, 3, 1}, in, 0f);
        Manifest fixed = manifest("true");
        assertEquals(8, InputShaper.benchmarkInput(fixed, fixed.artifacts.get(0), new float[] {1}, 4.0).length);
    }
}
