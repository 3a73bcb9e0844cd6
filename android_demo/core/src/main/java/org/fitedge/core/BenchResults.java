package org.fitedge.core;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The device benchmark results file ({@code fitedge_bench/results.json}, schema {@code fitedge.device_bench}
 * version 1; cross-team contract 3, documented in SCHEMA.md). Plain data written by {@link ResultsWriter};
 * {@code fitedge bench --on android} reads it.
 */
public final class BenchResults {
    public static final String SCHEMA = "fitedge.device_bench";
    public static final int SCHEMA_VERSION = 1;

    public final String schema = SCHEMA;
    public final int schemaVersion = SCHEMA_VERSION;
    public String appVersion;
    public Device device;
    public Bundle bundle;
    public List<Run> runs = new ArrayList<>();
    /** Why nothing could be measured (unreadable or mismatched bundle); null when {@code runs} is meaningful. */
    public String error;

    /** Where the numbers come from; fields the platform does not report stay null. */
    public static final class Device {
        public String manufacturer;
        public String model;
        public String soc;
        public String androidVersion;
        public Integer sdkInt;
        public String abi;
        public String thermalStatus;
        public Integer cores;
    }

    /** Which bundle was measured; the manifest hash ties results to one export. */
    public static final class Bundle {
        public String path;
        public String modelName;
        public String manifestSha256;
    }

    /** One artifact measured {@code iterations} times after {@code warmup} unmeasured runs. */
    public static final class Run {
        public String artifact;
        public String runtime;
        public String precision;
        public Double audioSeconds;
        public Integer inputSamples;
        public Integer threads;
        public Integer warmup;
        public Integer iterations;
        public Double loadMs;
        public Double firstInferenceMs;
        public double[] timingsMs;
        public Latency stats;
        public Double rtf;
        public Long peakMemoryKb;
        public String error;
    }

    /** Latency summary in milliseconds (see {@link Stats} for the conventions). */
    public static final class Latency {
        public double meanMs;
        public double stdMs;
        public double p50Ms;
        public double p90Ms;
        public double p99Ms;
        public double minMs;
        public double maxMs;

        static Latency of(Stats s) {
            Latency l = new Latency();
            l.meanMs = s.mean;
            l.stdMs = s.std;
            l.p50Ms = s.p50;
            l.p90Ms = s.p90;
            l.p99Ms = s.p99;
            l.minMs = s.min;
            l.maxMs = s.max;
            return l;
        }
    }

    /** Results for the bundle in {@code dir} measured on {@code device}, with no runs yet. */
    public static BenchResults forBundle(Path dir, Manifest m, Device device, String appVersion) throws IOException {
        BenchResults r = header(dir.toString(), device, appVersion);
        r.bundle.modelName = m.model == null ? null : m.model.name;
        r.bundle.manifestSha256 = Sha256.ofFile(dir.resolve(Manifest.FILE_NAME));
        return r;
    }

    /** Results that say why the bundle at {@code path} could not be benchmarked at all; no runs. */
    public static BenchResults failed(String path, Device device, String appVersion, String error) {
        BenchResults r = header(path, device, appVersion);
        r.error = error;
        return r;
    }

    private static BenchResults header(String path, Device device, String appVersion) {
        BenchResults r = new BenchResults();
        r.appVersion = appVersion;
        r.device = device;
        r.bundle = new Bundle();
        r.bundle.path = path;
        return r;
    }

    /**
     * A run entry for {@code a} on {@code inputSamples} samples: statistics from {@code timingsMs} and the
     * real-time factor (mean latency / audio duration; below 1 is faster than real time).
     */
    public static Run measuredRun(Manifest m, Manifest.Artifact a, int inputSamples, int threads, int warmup,
                                  double loadMs, double firstInferenceMs, double[] timingsMs, Long peakMemoryKb) {
        Run r = describedRun(m, a, inputSamples, threads, warmup, timingsMs.length);
        r.loadMs = loadMs;
        r.firstInferenceMs = firstInferenceMs;
        r.timingsMs = timingsMs.clone();
        Stats s = Stats.of(timingsMs);
        r.stats = Latency.of(s);
        r.rtf = s.mean / (r.audioSeconds * 1000.0);
        r.peakMemoryKb = peakMemoryKb;
        return r;
    }

    /** A run entry that records why the artifact could not be measured; no timings, {@code error} set. */
    public static Run failedRun(Manifest m, Manifest.Artifact a, int inputSamples, int threads, int warmup,
                                int iterations, String error) {
        Run r = describedRun(m, a, inputSamples, threads, warmup, iterations);
        r.timingsMs = new double[0];
        r.error = error;
        return r;
    }

    private static Run describedRun(Manifest m, Manifest.Artifact a, int inputSamples, int threads, int warmup,
                                    int iterations) {
        Run r = new Run();
        r.artifact = a.file;
        r.runtime = a.runtime;
        r.precision = a.precision;
        r.inputSamples = inputSamples;
        r.audioSeconds = inputSamples / (double) m.audio.sampleRate;
        r.threads = threads;
        r.warmup = warmup;
        r.iterations = iterations;
        return r;
    }
}
