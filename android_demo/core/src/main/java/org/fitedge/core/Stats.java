package org.fitedge.core;

import java.util.Arrays;

/**
 * Summary statistics with NumPy's conventions, so host and phone numbers agree: population standard
 * deviation ({@code ddof=0}) and percentiles by linear interpolation between closest ranks
 * ({@code np.percentile}'s default method).
 */
public final class Stats {
    public final double mean;
    public final double std;
    public final double min;
    public final double max;
    public final double p50;
    public final double p90;
    public final double p99;

    private Stats(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        double sum = 0;
        for (double v : sorted) {
            sum += v;
        }
        mean = sum / sorted.length;
        double sq = 0;
        for (double v : sorted) {
            sq += (v - mean) * (v - mean);
        }
        std = Math.sqrt(sq / sorted.length);
        min = sorted[0];
        max = sorted[sorted.length - 1];
        p50 = percentileOfSorted(sorted, 50);
        p90 = percentileOfSorted(sorted, 90);
        p99 = percentileOfSorted(sorted, 99);
    }

    /** Statistics of a non-empty sample. */
    public static Stats of(double[] values) {
        if (values.length == 0) {
            throw new IllegalArgumentException("statistics of an empty sample");
        }
        return new Stats(values);
    }

    public static Stats of(float[] values) {
        double[] d = new double[values.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = values[i];
        }
        return of(d);
    }

    /** The {@code q}-th percentile (0..100) of ascending {@code sorted}, linear between closest ranks. */
    public static double percentileOfSorted(double[] sorted, double q) {
        double rank = q / 100.0 * (sorted.length - 1);
        int lo = (int) Math.floor(rank);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }
}
