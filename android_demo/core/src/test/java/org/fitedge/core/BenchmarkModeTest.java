package org.fitedge.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** BenchmarkActivity's work (bundle, runs, device, results.json + DONE) with a fake host and {@link FakeRunner}. */
public class BenchmarkModeTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private final List<String> log = new ArrayList<>();

    /** A phone whose packed bundle is {@code packed} and which heats up to "severe" during the runs. */
    private static BenchmarkMode.Host host(Path packed) {
        return new BenchmarkMode.Host() {
            @Override
            public Path packedBundle() throws BundleException {
                if (packed == null) {
                    throw new BundleException("this APK contains no bundle");
                }
                return packed;
            }

            @Override
            public ModelRunner.Opener runners(Path bundleDir) {
                return (a, threads) -> new FakeRunner(0f, new long[] {1, 3, 2});
            }

            @Override
            public BenchResults.Device describeDevice() {
                BenchResults.Device d = new BenchResults.Device();
                d.model = "Pixel Test";
                d.thermalStatus = "none";
                return d;
            }

            @Override
            public String thermalStatus() {
                return "severe";
            }
        };
    }

    private JsonObject results(Path out) throws Exception {
        assertTrue(Files.isRegularFile(out.resolve(ResultsWriter.DONE_FILE)));
        String json = new String(Files.readAllBytes(out.resolve(ResultsWriter.RESULTS_FILE)), StandardCharsets.UTF_8);
        return JsonParser.parseString(json).getAsJsonObject();
    }

    @Test
    public void measuresThePackedBundleAndWritesResultsThenDone() throws Exception {
        Path bundle = TestBundles.write(tmp.newFolder("bundle").toPath());
        Path out = tmp.getRoot().toPath().resolve("fitedge_bench");
        BenchmarkMode.Settings s = new BenchmarkMode.Settings(null, null, 4.0, 2, 5, 2);

        Path written = BenchmarkMode.run(s, host(bundle), "0.1.0", out, log::add);

        assertEquals(out.resolve("results.json"), written);
        JsonObject r = results(out);
        assertTrue(r.get("error").isJsonNull());
        assertEquals(bundle.toString(), r.getAsJsonObject("bundle").get("path").getAsString());
        assertEquals("severe", r.getAsJsonObject("device").get("thermal_status").getAsString());
        JsonObject run = r.getAsJsonArray("runs").get(0).getAsJsonObject();
        assertEquals("tiny_fp32.pte", run.get("artifact").getAsString());
        assertEquals(5, run.getAsJsonArray("timings_ms").size());
        assertEquals(2, run.get("threads").getAsInt());
        assertEquals(List.of("benchmarking executorch fp32 (tiny_fp32.pte)"), log);
    }

    @Test
    public void anUnreadableBundleStillWritesResultsWithTheReason() throws Exception {
        Path out = tmp.getRoot().toPath().resolve("fitedge_bench");
        BenchmarkMode.run(new BenchmarkMode.Settings(null, null, 4.0, 1, 3, 1), host(null), "0.1.0", out, log::add);
        JsonObject r = results(out);
        assertEquals("this APK contains no bundle", r.get("error").getAsString());
        assertEquals(0, r.getAsJsonArray("runs").size());
        assertEquals("Pixel Test", r.getAsJsonObject("device").get("model").getAsString());
    }

    @Test
    public void anArtifactTheBundleLacksIsAnError() throws Exception {
        Path bundle = TestBundles.write(tmp.newFolder("bundle").toPath());
        Path out = tmp.getRoot().toPath().resolve("fitedge_bench");
        BenchmarkMode.run(new BenchmarkMode.Settings(bundle.toString(), "nope.tflite", 4.0, 1, 3, 1), host(null),
                "0.1.0", out, log::add);
        JsonObject r = results(out);
        assertTrue(r.get("error").getAsString(), r.get("error").getAsString().contains("nope.tflite"));
        assertEquals(bundle.toString(), r.getAsJsonObject("bundle").get("path").getAsString());
    }
}
