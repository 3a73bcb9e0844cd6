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
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.fitedge.core.BundleException;
import org.fitedge.core.DemoSession;
import org.fitedge.core.LiveSession;
import org.fitedge.core.Manifest;
import org.fitedge.core.ModelRunner;
import org.fitedge.core.SelfTest;

/**
 * The interactive demo: pick an artifact from the bundle's manifest, record speech (or use the bundled
 * sample), run the model off the UI thread and see latency, real-time factor, output shape and a heat map;
 * or self-test the artifact against the golden output with the manifest's thresholds. What happens between the
 * runtime and the screen is {@link DemoSession} (plain Java, tested off the phone); this class wires widgets,
 * the microphone and the worker thread to it.
 */
public final class MainActivity extends Activity {
    private static final int MIC_REQUEST = 1;
    private static final int LIVE_MIC_REQUEST = 2;
    private static final String SAMPLE_ASSET = "sample.wav";

    // One worker: model runs, recordings and file work happen in order, never on the UI thread.
    private final ExecutorService worker = Executors.newSingleThreadExecutor();
    private TextView status;
    private TextView result;
    private Spinner artifacts;
    private EditText seconds;
    private HeatmapView heatmap;
    private List<Button> actions;
    private Button live;
    // True while Live mode records; Stop clears it and the recording loop then flushes the stream and ends.
    private volatile boolean streaming;

    // Set once by the worker when the bundle has loaded; the buttons are enabled only after that.
    private volatile DemoSession session;
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
        live = findViewById(R.id.live);
        actions = Arrays.asList(record, sample, play, run, selfTest, live);
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
        live.setOnClickListener(v -> onLiveTapped());
        setActionsEnabled(false);
        worker.execute(this::loadBundle);
    }

    @Override
    protected void onDestroy() {
        streaming = false;
        worker.execute(() -> {
            if (session != null) {
                session.close();
            }
        });
        worker.shutdown();
        super.onDestroy();
    }

    /** Unpacks, parses and sha256-verifies the bundle, then offers its artifacts. */
    private void loadBundle() {
        try {
            Path dir = BundleStore.installed(this);
            int threads = Math.min(4, Runtime.getRuntime().availableProcessors());
            DemoSession s = DemoSession.open(dir, Runners.in(dir), threads);
            session = s;
            runOnUiThread(() -> {
                status.setText(s.status());
                artifacts.setAdapter(new ArrayAdapter<>(this, android.R.layout.simple_spinner_dropdown_item,
                        s.artifactLabels(Runners::unavailable)));
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
        if (requestCode != MIC_REQUEST && requestCode != LIVE_MIC_REQUEST) {
            return;
        }
        if (grants.length > 0 && grants[0] == PackageManager.PERMISSION_GRANTED) {
            if (requestCode == MIC_REQUEST) {
                startRecording();
            } else {
                startLive();
            }
        } else {
            result.setText(R.string.mic_denied);
        }
    }

    private void startRecording() {
        try {
            double s = DemoSession.parseSeconds(seconds.getText().toString());
            submit(() -> {
                show(getString(R.string.recording, s));
                clip = AudioCapture.record(session.manifest().audio.sampleRate, s);
                show(String.format(Locale.ROOT, "Recorded %.2f s. Tap Run model or Play.", s));
            });
        } catch (BundleException e) {
            result.setText(e.getMessage());
        }
    }

    private void onLiveTapped() {
        if (streaming) {
            streaming = false;
        } else if (checkSelfPermission(permission.RECORD_AUDIO) == PackageManager.PERMISSION_GRANTED) {
            startLive();
        } else {
            requestPermissions(new String[] {permission.RECORD_AUDIO}, LIVE_MIC_REQUEST);
        }
    }

    /**
     * Live mode: the microphone streamed through the selected artifact's window (core's LiveSession), phonemes
     * shown as soon as their frames are final, with the RTF and latencies, until Stop.
     */
    private void startLive() {
        Manifest.Artifact a = selectedArtifact();
        streaming = true;
        setActionsEnabled(false);
        live.setText(R.string.live_stop);
        live.setEnabled(true);
        worker.execute(() -> {
            try {
                LiveSession stream = session.live(a);
                show(getString(R.string.live_listening, a.label()));
                AudioCapture.stream(session.manifest().audio.sampleRate, () -> streaming, (pcm, n, readAt) -> {
                    stream.accept(pcm, n, readAt);
                    show(stream.summary());
                });
                stream.flush();
                show(stream.summary());
            } catch (Exception e) {
                show(e.getMessage());
            } finally {
                streaming = false;
                runOnUiThread(() -> {
                    live.setText(R.string.live);
                    setActionsEnabled(true);
                });
            }
        });
    }

    /** The APK's sample.wav when there is one, else the bundle's golden input (real audio from the export). */
    private void useSample() throws BundleException {
        byte[] wav;
        try (InputStream in = getAssets().open(SAMPLE_ASSET)) {
            wav = BundleStore.readAll(in);
        } catch (IOException noSampleInApk) {
            wav = null;
        }
        DemoSession.Clip c = session.sample(wav, SAMPLE_ASSET);
        clip = c.samples;
        show(c.description);
    }

    private void onPlayTapped() {
        float[] c = clip;
        if (c == null) {
            result.setText(R.string.no_clip);
        } else {
            AudioCapture.play(c, session.manifest().audio.sampleRate);
        }
    }

    /** Runs the selected artifact on the current clip and shows the numbers and the heat map. */
    private void runOnClip(Manifest.Artifact a) throws BundleException, ModelRunner.InferenceException {
        float[] c = clip;
        if (c == null) {
            show(getString(R.string.no_clip));
            return;
        }
        DemoSession.Inference inference = session.run(a, c);
        show(inference.summary());
        runOnUiThread(() -> heatmap.show(inference.firstOutput));
    }

    private void selfTest(Manifest.Artifact a) throws BundleException, ModelRunner.InferenceException {
        SelfTest t = session.selfTest(a);
        String text = String.format(Locale.ROOT, "Self-test %s (%.1f ms)%n%s", a.label(), t.latencyMs, t.summary());
        runOnUiThread(() -> {
            result.setText(text);
            result.setTextColor(t.passed() ? Color.rgb(0, 128, 0) : Color.RED);
        });
    }

    private Manifest.Artifact selectedArtifact() {
        return session.manifest().artifacts.get(artifacts.getSelectedItemPosition());
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
