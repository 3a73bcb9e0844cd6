package org.fitedge.demo;

import android.app.Activity;
import android.content.Intent;
import android.os.Bundle;
import android.util.Log;
import android.view.WindowManager;
import android.widget.TextView;
import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Collections;
import java.util.List;
import org.fitedge.core.BenchResults;
import org.fitedge.core.Benchmark;
import org.fitedge.core.BundleException;
import org.fitedge.core.BundleVerifier;
import org.fitedge.core.Float32Files;
import org.fitedge.core.Manifest;
import org.fitedge.core.ManifestReader;
import org.fitedge.core.ResultsWriter;

/**
 * Headless benchmark mode (contract 3), modelled on ExecuTorch's minibench app:
 * <pre>
 * adb shell am start -n org.fitedge.demo/.BenchmarkActivity --es bundle /data/local/tmp/fitedge/bundle \
 *     --es artifact FILE --ef seconds 4 --ei warmup 5 --ei iterations 30 --ei threads 2
 * </pre>
 * Without {@code bundle} it uses the bundle packed in the APK; without {@code artifact}, every artifact. It
 * writes {@code files/fitedge_bench/results.json}, then {@code DONE}, and finishes; a bundle that cannot be
 * read still produces a results file whose {@code error} says why, so the host never waits in vain.
 */
public final class BenchmarkActivity extends Activity {
    // The tag `fitedge bench --device android` tells users to follow: adb logcat -s fitedge
    private static final String TAG = "fitedge";
    static final String OUT_DIR = "fitedge_bench";

    @Override
    protected void onCreate(Bundle savedInstanceState) {
        super.onCreate(savedInstanceState);
        // A dimmed or sleeping screen lowers clocks mid-run; keep it on while measuring.
        getWindow().addFlags(WindowManager.LayoutParams.FLAG_KEEP_SCREEN_ON);
        TextView text = new TextView(this);
        text.setText(R.string.benchmark_title);
        setContentView(text);
        Intent intent = getIntent();
        Settings settings = new Settings(intent.getStringExtra("bundle"), intent.getStringExtra("artifact"),
                intent.getFloatExtra("seconds", 4f), intent.getIntExtra("warmup", 5),
                intent.getIntExtra("iterations", 30), intent.getIntExtra("threads", 2));
        new Thread(() -> {
            benchmark(settings);
            runOnUiThread(this::finish);
        }, TAG).start();
    }

    /** The intent extras, read once on the UI thread. */
    private static final class Settings {
        final String bundle;
        final String artifact;
        final double seconds;
        final int warmup;
        final int iterations;
        final int threads;

        Settings(String bundle, String artifact, double seconds, int warmup, int iterations, int threads) {
            this.bundle = bundle;
            this.artifact = artifact;
            this.seconds = seconds;
            this.warmup = warmup;
            this.iterations = iterations;
            this.threads = threads;
        }
    }

    private void benchmark(Settings s) {
        Path out = getFilesDir().toPath().resolve(OUT_DIR);
        BenchResults results;
        try {
            Path dir = s.bundle != null ? Paths.get(s.bundle) : BundleStore.installed(this);
            Manifest m = ManifestReader.read(dir);
            BundleVerifier.verify(dir, m);
            List<Manifest.Artifact> chosen = s.artifact != null
                    ? Collections.singletonList(ManifestReader.artifact(m, s.artifact)) : m.artifacts;
            float[] source = Float32Files.readBin(dir.resolve(m.golden.input.bin), m.golden.input.shape).data;
            results = BenchResults.forBundle(dir, m, DeviceProbe.describe(this), BuildConfig.VERSION_NAME);
            for (Manifest.Artifact a : chosen) {
                Log.i(TAG, "benchmarking " + a.label());
                results.runs.add(Benchmark.run(m, a, Runners.in(dir), source, s.seconds, s.warmup, s.iterations,
                        s.threads));
            }
            // Throttling builds up during the runs: report the state they ended in.
            results.device.thermalStatus = DeviceProbe.thermalStatus(this);
        } catch (BundleException | IOException | RuntimeException e) {
            Log.e(TAG, "benchmark failed", e);
            results = BenchResults.failed(s.bundle, DeviceProbe.describe(this), BuildConfig.VERSION_NAME,
                    e.getMessage());
        }
        try {
            Log.i(TAG, "results: " + ResultsWriter.write(out, results));
        } catch (IOException e) {
            Log.e(TAG, "could not write results to " + out, e);
        }
    }
}
