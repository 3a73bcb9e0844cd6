package org.fitedge.core;

/**
 * The benchmark loop of the app's headless mode: time the load, the first inference, {@code warmup - 1}
 * further unmeasured runs, then {@code iterations} measured ones, on the golden input repeated to the
 * requested length. A failure becomes a run entry with {@code error} set, so one bad artifact never loses
 * the results file.
 */
public final class Benchmark {
    private Benchmark() {
    }

    /** The measured (or failed) run of artifact {@code a}, opened through {@code opener}. */
    public static BenchResults.Run run(Manifest m, Manifest.Artifact a, ModelRunner.Opener opener, float[] source,
                                       double seconds, int warmup, int iterations, int threads) {
        float[] wav = InputShaper.benchmarkInput(m, a, source, seconds);
        if (iterations < 1) {
            return BenchResults.failedRun(m, a, wav.length, threads, warmup, iterations, "iterations must be >= 1");
        }
        long t0 = System.nanoTime();
        try (ModelRunner runner = opener.open(a, threads)) {
            double loadMs = msSince(t0);
            long t1 = System.nanoTime();
            runner.run(wav);
            double firstMs = msSince(t1);
            // The first inference counts as the first warm-up run.
            for (int i = 1; i < warmup; i++) {
                runner.run(wav);
            }
            double[] timings = new double[iterations];
            for (int i = 0; i < iterations; i++) {
                long t = System.nanoTime();
                runner.run(wav);
                timings[i] = msSince(t);
            }
            return BenchResults.measuredRun(m, a, wav.length, threads, warmup, loadMs, firstMs, timings,
                    MemoryProbe.peakRssKb());
        } catch (BundleException | ModelRunner.InferenceException | RuntimeException e) {
            return BenchResults.failedRun(m, a, wav.length, threads, warmup, iterations,
                    e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    private static double msSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e6;
    }
}
