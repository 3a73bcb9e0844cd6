package org.fitedge.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How close a runtime's output is to the golden one: cosine similarity, max absolute difference and SNR,
 * accumulated in double precision over the flattened tensors, the same measures the host export uses.
 */
public final class Parity {
    public final double cosine;
    public final double maxAbsDiff;
    public final double snrDb;

    private Parity(double cosine, double maxAbsDiff, double snrDb) {
        this.cosine = cosine;
        this.maxAbsDiff = maxAbsDiff;
        this.snrDb = snrDb;
    }

    /** Compares {@code actual} with the reference {@code expected}; both must hold the same number of values. */
    public static Parity compare(float[] expected, float[] actual) {
        if (expected.length != actual.length) {
            throw new IllegalArgumentException("cannot compare " + expected.length + " values with " + actual.length);
        }
        double dot = 0;
        double ee = 0;
        double aa = 0;
        double noise = 0;
        double maxAbs = 0;
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            double a = actual[i];
            double d = a - e;
            dot += e * a;
            ee += e * e;
            aa += a * a;
            noise += d * d;
            maxAbs = Math.max(maxAbs, Math.abs(d));
        }
        double norms = Math.sqrt(ee) * Math.sqrt(aa);
        // Two all-zero tensors are identical; one zero tensor against a non-zero one shares no direction.
        double cosine = norms == 0 ? (ee == aa ? 1.0 : 0.0) : dot / norms;
        // The 1e-30 floor matches the host (fitedge.edge.export.verify) for an all-zero reference.
        double snr = noise == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(Math.max(ee, 1e-30) / noise);
        return new Parity(cosine, maxAbs, snr);
    }

    /** The reasons this result misses {@code t}; empty when it passes. */
    public List<String> failures(Manifest.Thresholds t) {
        List<String> out = new ArrayList<>();
        if (t.minCosine != null && !(cosine >= t.minCosine)) {
            out.add(String.format(Locale.ROOT, "cosine %.6f < %.6f", cosine, t.minCosine));
        }
        if (t.maxAbsDiff != null && !(maxAbsDiff <= t.maxAbsDiff)) {
            out.add(String.format(Locale.ROOT, "max abs diff %.3g > %.3g", maxAbsDiff, t.maxAbsDiff));
        }
        return out;
    }
}
