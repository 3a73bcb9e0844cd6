package org.fitedge.core;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * What the demo screen does between the runtime and the widgets, in plain Java so it is tested off the phone:
 * open and verify a bundle, describe it, choose the clip (a sample WAV or the golden input), run an artifact on
 * a clip padded or cropped as the manifest says and report latency and RTF, self-test an artifact. One runner
 * stays open across taps because loading a model takes longer than running it. MainActivity only moves these
 * results onto the screen; call everything but the accessors off the UI thread.
 */
public final class DemoSession implements AutoCloseable {
    /** A clip ready to run, with the line the screen shows for it. */
    public static final class Clip {
        public final float[] samples;
        public final String description;

        Clip(float[] samples, String description) {
            this.samples = samples;
            this.description = description;
        }
    }

    /** One run of an artifact on a clip. */
    public static final class Inference {
        public final String label;
        public final double latencyMs;
        public final double audioSeconds;
        public final boolean fitted;
        public final String outputName;
        public final FloatTensor firstOutput;

        Inference(String label, double latencyMs, double audioSeconds, boolean fitted, String outputName,
                  FloatTensor firstOutput) {
            this.label = label;
            this.latencyMs = latencyMs;
            this.audioSeconds = audioSeconds;
            this.fitted = fitted;
            this.outputName = outputName;
            this.firstOutput = firstOutput;
        }

        /** Latency over audio duration; below 1 is faster than real time. */
        public double rtf() {
            return latencyMs / (1000.0 * audioSeconds);
        }

        public String summary() {
            return String.format(Locale.ROOT, "%s%nlatency %.1f ms, RTF %.3f (%.2f s of audio%s)%n%s %s", label,
                    latencyMs, rtf(), audioSeconds, fitted ? ", padded/cropped" : "", outputName,
                    firstOutput.shapeText());
        }
    }

    private final Path dir;
    private final Manifest manifest;
    private final int verifiedFiles;
    private final ModelRunner.Opener opener;
    private final int threads;
    private ModelRunner runner;
    private Manifest.Artifact runnerArtifact;

    private DemoSession(Path dir, Manifest manifest, int verifiedFiles, ModelRunner.Opener opener, int threads) {
        this.dir = dir;
        this.manifest = manifest;
        this.verifiedFiles = verifiedFiles;
        this.opener = opener;
        this.threads = threads;
    }

    /** Parses and sha256-verifies the bundle in {@code dir}; artifacts are opened through {@code opener} on use. */
    public static DemoSession open(Path dir, ModelRunner.Opener opener, int threads) throws BundleException {
        Manifest m = ManifestReader.read(dir);
        return new DemoSession(dir, m, BundleVerifier.verify(dir, m).size(), opener, threads);
    }

    public Manifest manifest() {
        return manifest;
    }

    /** The top line: which model, that its files passed verification, the input length. */
    public String status() {
        Manifest.Model model = manifest.model;
        return String.format(Locale.ROOT, "%s (%s) — %d files verified, %.2f s input at %d Hz", model.name,
                Boolean.TRUE.equals(model.trained) ? "trained" : "untrained weights", verifiedFiles,
                manifest.audio.inputSamples / (double) manifest.audio.sampleRate, manifest.audio.sampleRate);
    }

    /**
     * The artifact picker's entries, in manifest order; {@code unavailable} says why this build cannot run an
     * artifact (null if it can), and such an entry carries the reason.
     */
    public List<String> artifactLabels(Function<Manifest.Artifact, String> unavailable) {
        List<String> labels = new ArrayList<>();
        for (Manifest.Artifact a : manifest.artifacts) {
            String reason = unavailable.apply(a);
            labels.add(reason == null ? a.label() : a.label() + " — unavailable: " + reason);
        }
        return labels;
    }

    /** The clip in a sample WAV's bytes (at the model's rate), or the golden input when {@code wav} is null. */
    public Clip sample(byte[] wav, String name) throws BundleException {
        int rate = manifest.audio.sampleRate;
        if (wav == null) {
            float[] golden = Float32Files.readBin(dir.resolve(manifest.golden.input.bin),
                    manifest.golden.input.shape).data;
            return new Clip(golden, String.format(Locale.ROOT, "Sample: the bundle's golden input, %.2f s",
                    golden.length / (double) rate));
        }
        WavReader.Waveform w = WavReader.decode(wav, name);
        if (w.sampleRate != rate) {
            throw new BundleException(name + " is " + w.sampleRate + " Hz, the model takes " + rate
                    + " Hz; convert it with `sox IN -r " + rate + " -c 1 -b 16 " + name + "`");
        }
        return new Clip(w.samples, String.format(Locale.ROOT, "Sample %s: %.2f s", name, w.seconds()));
    }

    /** Runs artifact {@code a} on {@code clip}, zero-padded or cropped to the length the manifest gives it. */
    public Inference run(Manifest.Artifact a, float[] clip) throws BundleException, ModelRunner.InferenceException {
        float[] input = InputShaper.fit(manifest, a, clip);
        ModelRunner r = runnerFor(a);
        long start = System.nanoTime();
        List<FloatTensor> outputs = r.run(input);
        double ms = (System.nanoTime() - start) / 1e6;
        if (outputs.isEmpty()) {
            throw new BundleException(a.file + " returned no outputs; the manifest lists " + manifest.outputs.size());
        }
        return new Inference(a.label(), ms, input.length / (double) manifest.audio.sampleRate,
                input.length != clip.length, manifest.outputs.get(0).name, outputs.get(0));
    }

    /** The golden input through {@code a}, checked against the golden outputs with the manifest's thresholds. */
    public SelfTest selfTest(Manifest.Artifact a) throws BundleException, ModelRunner.InferenceException {
        return SelfTest.run(dir, manifest, a, runnerFor(a));
    }

    /** A Live-mode stream over artifact {@code a} (the session's runner, reused like {@link #run}'s). */
    public LiveSession live(Manifest.Artifact a) throws BundleException, ModelRunner.InferenceException {
        return new LiveSession(manifest, a, dir, runnerFor(a));
    }

    /** The recording length typed by the user, in seconds: a number in (0, 60]. */
    public static double parseSeconds(String text) throws BundleException {
        try {
            double s = Double.parseDouble(text.trim());
            if (s > 0 && s <= 60) {
                return s;
            }
        } catch (NumberFormatException notANumber) {
            // reported below, with the range
        }
        throw new BundleException("seconds must be a number between 0 and 60");
    }

    private ModelRunner runnerFor(Manifest.Artifact a) throws BundleException, ModelRunner.InferenceException {
        if (runner == null || runnerArtifact != a) {
            close();
            runner = opener.open(a, threads);
            runnerArtifact = a;
        }
        return runner;
    }

    /** Frees the open runner, if any. */
    @Override
    public void close() {
        if (runner != null) {
            runner.close();
            runner = null;
            runnerArtifact = null;
        }
    }
}
