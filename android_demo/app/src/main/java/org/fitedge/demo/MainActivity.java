package org.fitedge.demo;

import android.Manifest.permission;
import android.app.Activity;
import android.content.pm.PackageManager;
import android.graphics.Color;
import android.os.Bundle;
import android.widget.ArrayAdapter;
import android.widget.Button;
import android.widget.EditText;
import android.widget.Spinner;
import android.widget.TextView;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.fitedge.core.BundleException;
import org.fitedge.core.BundleVerifier;
import org.fitedge.core.Float32Files;
import org.fitedge.core.FloatTensor;
import org.fitedge.core.InputShaper;
import org.fitedge.core.Manifest;
import org.fitedge.core.ManifestReader;
import org.fitedge.core.ModelRunner;
import org.fitedge.core.SelfTest;
import org.fitedge.core.WavReader;

/**
 * The interactive demo: pick an artifact from the bundle's manifest, record speech (or use the bundled
 * sample), run the model off the UI thread and see latency, real-time factor, output shape and a heat map;
 * or self-test the artifact against the golden output with the manifest's thresholds.
 */
public final class MainActivity extends Activity {
    private static final int MIC_REQUEST = 1;
    private static final String SAMPLE_ASSET = "sample.wav";

    // One worker: model runs, recordings and file work happen in order, never on the UI thread.
    private final ExecutorService worker = Executors.newSingleThreadExecutor();
    private TextView status;
    private TextView result;
    private Spinner artifacts;
    private EditText seconds;
    private HeatmapView heatmap;
    private List<Button> actions;

    // Touched only on the worker thread after loading.
    private Path bundleDir;
    private Manifest manifest;
    private ModelRunner runner;
    private Manifest.Artifact runnerArtifact;
    private volatile float[] clip;

    @Override
    protected void onCreate(Bundle savedInstanceState) {
        super.onCreate(savedInstanceState);
        setContentView(R.layout.activity_main);
        status = findViewById(R.id.bundle_status);
        result = findViewById(R.id.result);
        artifacts = findViewById(R.id.artifacts);
        seconds = findViewById(R.id.seconds);
        heatmap = findViewById(R.id.heatmap);
        Button record = findViewById(R.id.record);
        Button sample = findViewById(R.id.sample);
        Button play = findViewById(R.id.play);
        Button run = findViewById(R.id.run);
        Button selfTest = findViewById(R.id.self_test);
        actions = Arrays.asList(record, sample, play, run, selfTest);
        record.setOnClickListener(v -> onRecordTapped());
        sample.setOnClickListener(v -> submit(this::useSample));
        play.setOnClickListener(v -> onPlayTapped());
        // Widgets are read here on the UI thread; the worker only gets the values.
        run.setOnClickListener(v -> {
            Manifest.Artifact a = selectedArtifact();
            submit(() -> runOnClip(a));
        });
        selfTest.setOnClickListener(v -> {
            Manifest.Artifact a = selectedArtifact();
            submit(() -> selfTest(a));
        });
        setActionsEnabled(false);
        worker.execute(this::loadBundle);
    }

    @Override
    protected void onDestroy() {
        worker.execute(this::closeRunner);
        worker.shutdown();
        super.onDestroy();
    }

    /** Unpacks, parses and sha256-verifies the bundle, then offers its artifacts. */
    private void loadBundle() {
        try {
            Path dir = BundleStore.installed(this);
            Manifest m = ManifestReader.read(dir);
            int files = BundleVerifier.verify(dir, m).size();
            bundleDir = dir;
            manifest = m;
            List<String> labels = new ArrayList<>();
            for (Manifest.Artifact a : m.artifacts) {
                labels.add(a.label());
            }
            String text = String.format(Locale.ROOT, "%s (%s) — %d files verified, %.2f s input at %d Hz",
                    m.model.name, m.model.trained != null && m.model.trained ? "trained" : "untrained weights",
                    files, m.audio.inputSamples / (double) m.audio.sampleRate, m.audio.sampleRate);
            runOnUiThread(() -> {
                status.setText(text);
                artifacts.setAdapter(new ArrayAdapter<>(this, android.R.layout.simple_spinner_dropdown_item, labels));
                setActionsEnabled(true);
            });
        } catch (BundleException | RuntimeException e) {
            runOnUiThread(() -> status.setText("Bundle problem: " + e.getMessage()));
        }
    }

    private void onRecordTapped() {
        if (checkSelfPermission(permission.RECORD_AUDIO) == PackageManager.PERMISSION_GRANTED) {
            startRecording();
        } else {
            requestPermissions(new String[] {permission.RECORD_AUDIO}, MIC_REQUEST);
        }
    }

    @Override
    public void onRequestPermissionsResult(int requestCode, String[] permissions, int[] grants) {
        super.onRequestPermissionsResult(requestCode, permissions, grants);
        if (requestCode != MIC_REQUEST) {
            return;
        }
        if (grants.length > 0 && grants[0] == PackageManager.PERMISSION_GRANTED) {
            startRecording();
        } else {
            result.setText(R.string.mic_denied);
        }
    }

    private void startRecording() {
        try {
            double s = parseSeconds();
            submit(() -> {
                show(getString(R.string.recording, s));
                clip = AudioCapture.record(manifest.audio.sampleRate, s);
                show(String.format(Locale.ROOT, "Recorded %.2f s. Tap Run model or Play.", s));
            });
        } catch (BundleException e) {
            result.setText(e.getMessage());
        }
    }

    /** The APK's sample.wav when there is one, else the bundle's golden input (real audio from the export). */
    private void useSample() throws BundleException {
        try (InputStream in = getAssets().open(SAMPLE_ASSET)) {
            WavReader.Waveform w = WavReader.decode(BundleStore.readAll(in), SAMPLE_ASSET);
            if (w.sampleRate != manifest.audio.sampleRate) {
                throw new BundleException(SAMPLE_ASSET + " is " + w.sampleRate + " Hz, the model takes "
                        + manifest.audio.sampleRate + " Hz; convert it with `sox IN -r 16000 -c 1 -b 16 sample.wav`");
            }
            clip = w.samples;
            show(String.format(Locale.ROOT, "Sample %s: %.2f s", SAMPLE_ASSET, w.seconds()));
        } catch (IOException noSampleInApk) {
            clip = Float32Files.readBin(bundleDir.resolve(manifest.golden.input.bin), manifest.golden.input.shape).data;
            show(String.format(Locale.ROOT, "Sample: the bundle's golden input, %.2f s",
                    clip.length / (double) manifest.audio.sampleRate));
        }
    }

    private void onPlayTapped() {
        float[] c = clip;
        if (c == null) {
            result.setText(R.string.no_clip);
        } else {
            AudioCapture.play(c, manifest.audio.sampleRate);
        }
    }

    /** Runs the selected artifact on the current clip, padded or cropped as the manifest says. */
    private void runOnClip(Manifest.Artifact a) throws BundleException, ModelRunner.InferenceException {
        float[] c = clip;
        if (c == null) {
            show(getString(R.string.no_clip));
            return;
        }
        float[] input = InputShaper.fit(manifest, a, c);
        ModelRunner r = runnerFor(a);
        long start = System.nanoTime();
        List<FloatTensor> outputs = r.run(input);
        double ms = (System.nanoTime() - start) / 1e6;
        double audioMs = 1000.0 * input.length / manifest.audio.sampleRate;
        FloatTensor first = outputs.get(0);
        show(String.format(Locale.ROOT, "%s%nlatency %.1f ms, RTF %.3f (%.2f s of audio%s)%n%s %s",
                a.label(), ms, ms / audioMs, audioMs / 1000, input.length == c.length ? "" : ", padded/cropped",
                manifest.outputs.get(0).name, first.shapeText()));
        runOnUiThread(() -> heatmap.show(first));
    }

    private void selfTest(Manifest.Artifact a) throws BundleException, ModelRunner.InferenceException {
        SelfTest t = SelfTest.run(bundleDir, manifest, a, runnerFor(a));
        String text = String.format(Locale.ROOT, "Self-test %s (%.1f ms)%n%s", a.label(), t.latencyMs, t.summary());
        runOnUiThread(() -> {
            result.setText(text);
            result.setTextColor(t.passed() ? Color.rgb(0, 128, 0) : Color.RED);
        });
    }

    /** The runner of {@code a}, reused across taps; loading a model takes longer than running it. */
    private ModelRunner runnerFor(Manifest.Artifact a) throws BundleException, ModelRunner.InferenceException {
        if (runner == null || runnerArtifact != a) {
            closeRunner();
            runner = Runners.open(bundleDir, a, Math.min(4, Runtime.getRuntime().availableProcessors()));
            runnerArtifact = a;
        }
        return runner;
    }

    private void closeRunner() {
        if (runner != null) {
            runner.close();
            runner = null;
        }
    }

    private Manifest.Artifact selectedArtifact() {
        return manifest.artifacts.get(artifacts.getSelectedItemPosition());
    }

    private double parseSeconds() throws BundleException {
        try {
            double s = Double.parseDouble(seconds.getText().toString());
            if (s > 0 && s <= 60) {
                return s;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new BundleException("seconds must be a number between 0 and 60");
    }

    /** A UI action that may fail; it runs on the worker and its failure is shown, not thrown. */
    private interface Action {
        void run() throws Exception;
    }

    private void submit(Action action) {
        setActionsEnabled(false);
        worker.execute(() -> {
            try {
                action.run();
            } catch (Exception e) {
                show(e.getMessage());
            } finally {
                runOnUiThread(() -> setActionsEnabled(true));
            }
        });
    }

    private void show(String text) {
        runOnUiThread(() -> {
            result.setTextColor(status.getCurrentTextColor());
            result.setText(text);
        });
    }

    private void setActionsEnabled(boolean enabled) {
        for (Button b : actions) {
            b.setEnabled(enabled);
        }
    }
}
