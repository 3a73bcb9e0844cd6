package org.fitedge.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.nio.file.Path;
import java.util.Collections;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The self-test and benchmark logic, driven by {@link FakeRunner}: the real runtimes exist only on a phone.
 */
public class SelfTestAndBenchmarkTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void selfTestPassesWithinTheFp32Limits() throws Exception {
        Path dir = TestBundles.write(tmp.getRoot().toPath());
        Manifest m = ManifestReader.read(dir);
        FakeRunner runner = new FakeRunner(1e-4f, new long[] {1, 3, 2});
        SelfTest t = SelfTest.run(dir, m, m.artifacts.get(0), runner);
        assertTrue(t.summary(), t.passed());
        assertEquals(Collections.singletonList(8), runner.fedLengths);
        assertTrue(t.summary(), t.summary().startsWith("PASS\nlast_hidden_state [1, 3, 2]: cosine"));
    }

    @Test
    public void selfTestFailsOnDriftOrShape() throws Exception {
        Path dir = TestBundles.write(tmp.getRoot().toPath());
        Manifest m = ManifestReader.read(dir);
        SelfTest drift = SelfTest.run(dir, m, m.artifacts.get(0), new FakeRunner(0.01f, new long[] {1, 3, 2}));
        assertFalse(drift.passed());
        assertTrue(drift.summary(), drift.summary().contains("max abs diff 0.0100 > 0.00100"));
        SelfTest shape = SelfTest.run(dir, m, m.artifacts.get(0), new FakeRunner(0f, new long[] {1, 2, 3}));
        assertFalse(shape.passed());
        assertNull(shape.outputs.get(0).parity);
        assertTrue(shape.summary(), shape.summary().contains("shape [1, 2, 3] != golden [1, 3, 2]"));
    }

    @Test
    public void benchmarkTimesEveryIterationAndClosesTheRunner() throws Exception {
        Path dir = TestBundles.write(tmp.getRoot().toPath());
        Manifest m = ManifestReader.read(dir);
        FakeRunner runner = new FakeRunner(0f, new long[] {1, 3, 2});
        BenchResults.Run r = Benchmark.run(m, m.artifacts.get(0), (a, threads) -> runner, TestBundles.INPUT,
                4.0, 3, 7, 2);
        assertNull(r.error);
        assertEquals(3 + 7, runner.fedLengths.size());  // first inference is the first warm-up run
        assertEquals(8, (int) runner.fedLengths.get(0));  // fixed-length artifact: 4 s requested, 8 samples fed
        assertEquals(7, r.timingsMs.length);
        assertEquals(8, (int) r.inputSamples);
        assertTrue(r.loadMs >= 0 && r.firstInferenceMs >= 0 && r.stats.minMs >= 0);
        assertTrue(runner.closed);
    }

    @Test
    public void aFailingRuntimeBecomesAnErrorEntry() throws Exception {
        Path dir = TestBundles.write(tmp.getRoot().toPath());
        Manifest m = ManifestReader.read(dir);
        ModelRunner.Opener broken = (a, threads) -> {
            throw new ModelRunner.InferenceException("Delegate XNNPACK unavailable", null);
        };
        BenchResults.Run r = Benchmark.run(m, m.artifacts.get(0), broken, TestBundles.INPUT, 1.0, 1, 5, 1);
        assertEquals("InferenceException: Delegate XNNPACK unavailable", r.error);
        assertEquals(0, r.timingsMs.length);
        assertEquals(5, (int) r.iterations);
    }
}
