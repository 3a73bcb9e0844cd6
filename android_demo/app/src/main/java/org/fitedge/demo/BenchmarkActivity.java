package org.fitedge.demo;

import android.app.Activity;
import android.content.Intent;
import android.os.Bundle;
import android.util.Log;
import android.view.WindowManager;
import android.widget.TextView;
import java.io.IOException;
import java.nio.file.Path;
import org.fitedge.core.BenchResults;
import org.fitedge.core.BenchmarkMode;
import org.fitedge.core.BundleException;
import org.fitedge.core.ModelRunner;

/**
 * Headless benchmark mode (contract 3), modelled on ExecuTorch's minibench app:
 * <pre>
 * adb shell am start -n org.fitedge.demo/.BenchmarkActivity --es bundle /data/local/tmp/fitedge/bundle \
 *     --es artifact FILE --ef seconds 4 --ei warmup 5 --ei iterations 30 --ei threads 2
 * </pre>
 * Without {@code bundle} it uses the bundle packed in the APK; without {@code artifact}, every artifact. It
 * writes {@code files/fitedge_bench/results.json}, then {@code DONE}, and finishes; a bundle that cannot be
 * read still produces a results file whose {@code error} says why, so the host never waits in vain. The work
 * is {@link BenchmarkMode} (plain Java, tested off the phone); this class reads the extras and answers its
 * questions about the phone.
 */
public final class BenchmarkActivity extends Activity {
    // The tag `fitedge bench --on android` tells users to follow: adb logcat -s fitedge
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
        BenchmarkMode.Settings settings = new BenchmarkMode.Settings(intent.getStringExtra("bundle"),
                intent.getStringExtra("artifact"), intent.getFloatExtra("seconds", 4f), intent.getIntExtra("warmup", 5),
                intent.getIntExtra("iterations", 30), intent.getIntExtra("threads", 2));
        new Thread(() -> {
            benchmark(settings);
            runOnUiThread(this::finish);
        }, TAG).start();
    }

    private void benchmark(BenchmarkMode.Settings settings) {
        Path out = getFilesDir().toPath().resolve(OUT_DIR);
        try {
            Log.i(TAG, "results: " + BenchmarkMode.run(settings, new PhoneHost(), BuildConfig.VERSION_NAME, out,
                    line -> Log.i(TAG, line)));
        } catch (IOException e) {
            Log.e(TAG, "could not write results to " + out, e);
        }
    }

    /** This phone, as the benchmark asks about it. */
    private final class PhoneHost implements BenchmarkMode.Host {
        @Override
        public Path packedBundle() throws BundleException {
            return BundleStore.installed(BenchmarkActivity.this);
        }

        @Override
        public ModelRunner.Opener runners(Path bundleDir) {
            return Runners.in(bundleDir);
        }

        @Override
        public BenchResults.Device describeDevice() {
            return DeviceProbe.describe(BenchmarkActivity.this);
        }

        @Override
        public String thermalStatus() {
            return DeviceProbe.thermalStatus(BenchmarkActivity.this);
        }
    }
}
