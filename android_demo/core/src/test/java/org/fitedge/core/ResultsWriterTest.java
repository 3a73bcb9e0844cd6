package org.fitedge.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class ResultsWriterTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private static BenchResults.Device device() {
        BenchResults.Device d = new BenchResults.Device();
        d.manufacturer = "Google";
        d.model = "Pixel 7";
        d.sdkInt = 34;
        return d;
    }

    @Test
    public void writesTheContractLayoutThenDone() throws Exception {
        Path bundle = TestBundles.write(tmp.newFolder("bundle").toPath());
        Manifest m = ManifestReader.read(bundle);
        BenchResults r = BenchResults.forBundle(bundle, m, device(), "0.1.0");
        r.runs.add(BenchResults.measuredRun(m, m.artifacts.get(0), 16000, 2, 5, 120.5, 80.0,
                new double[] {10, 12, 11, 13}, 51200L));
        Path out = tmp.getRoot().toPath().resolve("fitedge_bench");
        Files.createDirectories(out);
        Files.write(out.resolve(ResultsWriter.DONE_FILE), new byte[0]);  // stale marker from an older run

        Path written = ResultsWriter.write(out, r);

        assertTrue(Files.exists(out.resolve("DONE")));
        assertFalse(Files.exists(out.resolve("results.json.tmp")));
        JsonObject j = JsonParser.parseString(new String(Files.readAllBytes(written), StandardCharsets.UTF_8))
                .getAsJsonObject();
        assertEquals("fitedge.device_bench", j.get("schema").getAsString());
        assertEquals(1, j.get("schema_version").getAsInt());
        assertEquals("Pixel 7", j.getAsJsonObject("device").get("model").getAsString());
        assertTrue(j.getAsJsonObject("device").get("soc").isJsonNull());
        assertEquals(Sha256.ofFile(bundle.resolve("manifest.json")),
                j.getAsJsonObject("bundle").get("manifest_sha256").getAsString());
        JsonObject run = j.getAsJsonArray("runs").get(0).getAsJsonObject();
        assertEquals("executorch", run.get("runtime").getAsString());
        assertEquals(1.0, run.get("audio_seconds").getAsDouble(), 0);
        assertEquals(4, run.get("iterations").getAsInt());
        assertEquals(4, run.getAsJsonArray("timings_ms").size());
        assertEquals(11.5, run.getAsJsonObject("stats").get("mean_ms").getAsDouble(), 1e-12);
        assertEquals(0.0115, run.get("rtf").getAsDouble(), 1e-12);
        assertTrue(run.get("error").isJsonNull());
        assertTrue(j.get("error").isJsonNull());
    }

    @Test
    public void failedRunKeepsTheReasonAndNoTimings() throws Exception {
        Path bundle = TestBundles.write(tmp.getRoot().toPath());
        Manifest m = ManifestReader.read(bundle);
        BenchResults r = BenchResults.forBundle(bundle, m, device(), "0.1.0");
        r.runs.add(BenchResults.failedRun(m, m.artifacts.get(0), 8, 1, 0, 30, "no XNNPACK"));
        JsonObject run = JsonParser.parseString(ResultsWriter.toJson(r)).getAsJsonObject()
                .getAsJsonArray("runs").get(0).getAsJsonObject();
        assertEquals("no XNNPACK", run.get("error").getAsString());
        assertEquals(0, run.getAsJsonArray("timings_ms").size());
        assertTrue(run.get("stats").isJsonNull());
        assertEquals(30, run.get("iterations").getAsInt());
    }

    @Test
    public void unreadableBundleStillGivesAResultsFileThatSaysWhy() throws Exception {
        Path out = tmp.getRoot().toPath().resolve("fitedge_bench");
        ResultsWriter.write(out, BenchResults.failed("/data/local/tmp/x", device(), "0.1.0", "no manifest.json"));
        JsonObject j = JsonParser.parseString(new String(Files.readAllBytes(out.resolve("results.json")),
                StandardCharsets.UTF_8)).getAsJsonObject();
        assertEquals("no manifest.json", j.get("error").getAsString());
        assertEquals(0, j.getAsJsonArray("runs").size());
        assertEquals("/data/local/tmp/x", j.getAsJsonObject("bundle").get("path").getAsString());
        assertTrue(j.getAsJsonObject("bundle").get("manifest_sha256").isJsonNull());
        assertTrue(Files.exists(out.resolve("DONE")));
    }

    @Test
    public void peakMemoryComesFromVmHwm() {
        assertEquals(Long.valueOf(51200), MemoryProbe.parseVmHwmKb("Name:\tjava\nVmPeak:\t 9 kB\nVmHWM:\t   51200 kB\n"));
        assertEquals(null, MemoryProbe.parseVmHwmKb("Name:\tjava\n"));
        Long own = MemoryProbe.peakRssKb();  // this JVM on Linux: at least a few MiB resident
        assertTrue(String.valueOf(own), own != null && own > 1024);
    }
}
