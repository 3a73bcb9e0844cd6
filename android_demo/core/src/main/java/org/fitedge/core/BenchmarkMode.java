package org.fitedge.core;

import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;

/**
 * The headless benchmark (contract 3) in plain Java, so it is tested off the phone: open and verify the bundle,
 * measure the chosen artifacts on its golden input, record the device, write {@code results.json} then
 * {@code DONE}. A bundle that cannot be read still produces a results file whose {@code error} says why, so
 * the host never waits in vain. BenchmarkActivity supplies the intent extras, the runtime binding and the
 * device facts.
 */
public final class BenchmarkMode {
    /** The run's parameters (the intent extras); {@code bundle} and {@code artifact} may be null. */
    public static final class Settings {
        final String bundle;
        final String artifact;
        final double seconds;
        final int warmup;
        final int iterations;
        final int threads;

        public Settings(String bundle, String artifact, double seconds, int warmup, int iterations, int threads) {
            this.bundle = bundle;
            this.artifact = artifact;
            this.seconds = seconds;
            this.warmup = warmup;
            this.iterations = iterations;
            this.threads = threads;
        }
    }

    /** The phone's side: where the packed bundle is, how to open an artifact, what the device is. */
    public interface Host {
        /** The folder of the bundle packed in the APK, used when no bundle path was given. */
        Path packedBundle() throws BundleException;

        ModelRunner.Opener runners(Path bundleDir);

        BenchResults.Device describeDevice();

        /** The thermal state now; the runs heat the phone, so it is read again at the end. */
        String thermalStatus();
    }

    private BenchmarkMode() {
    }

    /** Benchmarks as {@code s} says, writes the results into {@code out}, and returns the results file. */
    public static Path run(Settings s, Host host, String appVersion, Path out, Consumer<String> log)
            throws IOException {
        BenchResults results;
        try {
            Path dir = s.bundle != null ? Paths.get(s.bundle) : host.packedBundle();
            Manifest m = ManifestReader.read(dir);
            BundleVerifier.verify(dir, m);
            List<Manifest.Artifact> chosen = s.artifact != null
                    ? Collections.singletonList(ManifestReader.artifact(m, s.artifact)) : m.artifacts;
            float[] source = Float32Files.readBin(dir.resolve(m.golden.input.bin), m.golden.input.shape).data;
            results = BenchResults.forBundle(dir, m, host.describeDevice(), appVersion);
            ModelRunner.Opener opener = host.runners(dir);
            for (Manifest.Artifact a : chosen) {
                log.accept("benchmarking " + a.label());
                results.runs.add(Benchmark.run(m, a, opener, source, s.seconds, s.warmup, s.iterations, s.threads));
            }
            results.device.thermalStatus = host.thermalStatus();
        } catch (BundleException | IOException | RuntimeException e) {
            log.accept("benchmark failed: " + e);
            results = BenchResults.failed(s.bundle, host.describeDevice(), appVersion, e.getMessage());
        }
        return ResultsWriter.write(out, results);
    }
}
