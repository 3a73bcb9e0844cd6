package org.fitedge.core;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * The host's parity check, on the phone: run the golden input through an artifact and compare every output
 * with the golden fp32 eager output against the manifest's thresholds for the artifact's precision.
 */
public final class SelfTest {
    /** Outcome for one output tensor. */
    public static final class OutputCheck {
        public final String name;
        public final long[] shape;
        /** Null when the shapes differ and nothing could be compared. */
        public final Parity parity;
        public final List<String> failures;

        OutputCheck(String name, long[] shape, Parity parity, List<String> failures) {
            this.name = name;
            this.shape = shape;
            this.parity = parity;
            this.failures = Collections.unmodifiableList(failures);
        }
    }

    public final List<OutputCheck> outputs;
    public final double latencyMs;

    private SelfTest(List<OutputCheck> outputs, double latencyMs) {
        this.outputs = Collections.unmodifiableList(outputs);
        this.latencyMs = latencyMs;
    }

    public boolean passed() {
        return outputs.stream().allMatch(o -> o.failures.isEmpty());
    }

    /** One line per output for the UI, e.g. {@code last_hidden_state: cosine 0.999991, max abs diff 2.1e-04}. */
    public String summary() {
        StringBuilder sb = new StringBuilder(passed() ? "PASS" : "FAIL");
        for (OutputCheck o : outputs) {
            sb.append(String.format(Locale.ROOT, "%n%s %s", o.name, Arrays.toString(o.shape)));
            if (o.parity != null) {
                sb.append(String.format(Locale.ROOT, ": cosine %.6f, max abs diff %.3g, SNR %.1f dB",
                        o.parity.cosine, o.parity.maxAbsDiff, o.parity.snrDb));
            }
            for (String f : o.failures) {
                sb.append("\n  ").append(f);
            }
        }
        return sb.toString();
    }

    /** Runs the golden input of the bundle in {@code dir} through {@code runner} and checks the outputs. */
    public static SelfTest run(Path dir, Manifest m, Manifest.Artifact a, ModelRunner runner)
            throws BundleException, ModelRunner.InferenceException {
        Manifest.Thresholds limits = ManifestReader.thresholds(m, a);
        FloatTensor input = Float32Files.readBin(dir.resolve(m.golden.input.bin), m.golden.input.shape);
        long start = System.nanoTime();
        List<FloatTensor> actual = runner.run(InputShaper.fit(m, a, input.data));
        double latencyMs = (System.nanoTime() - start) / 1e6;
        if (actual.size() != m.outputs.size()) {
            throw new BundleException(a.file + " returned " + actual.size() + " outputs, the manifest lists "
                    + m.outputs.size() + "; the bundle and the artifact do not belong together");
        }
        List<OutputCheck> checks = new ArrayList<>();
        for (int i = 0; i < m.outputs.size(); i++) {
            Manifest.GoldenArray g = m.golden.outputs.get(m.outputs.get(i).name);
            FloatTensor expected = Float32Files.readBin(dir.resolve(g.bin), g.shape);
            FloatTensor got = actual.get(i);
            List<String> failures = new ArrayList<>();
            Parity p = null;
            if (Arrays.equals(expected.shape(), got.shape())) {
                p = Parity.compare(expected.data, got.data);
                failures.addAll(p.failures(limits));
            } else {
                failures.add("shape " + got.shapeText() + " != golden " + expected.shapeText());
            }
            checks.add(new OutputCheck(m.outputs.get(i).name, got.shape(), p, failures));
        }
        return new SelfTest(checks, latencyMs);
    }
}
