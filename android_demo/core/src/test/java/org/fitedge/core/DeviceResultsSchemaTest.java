package org.fitedge.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** What ResultsWriter writes satisfies bench/device/device_results.schema.json, the file fitedge bench reads with. */
public class DeviceResultsSchemaTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private BenchResults measured() throws Exception {
        Path bundle = TestBundles.write(tmp.newFolder("bundle").toPath());
        Manifest m = ManifestReader.read(bundle);
        BenchResults.Device device = new BenchResults.Device();
        device.model = "Pixel 7";
        device.sdkInt = 34;
        device.cores = 8;
        BenchResults r = BenchResults.forBundle(bundle, m, device, "0.1.0");
        r.runs.add(BenchResults.measuredRun(m, m.artifacts.get(0), 16000, 2, 5, 120.5, 80.0,
                new double[] {10, 12, 11, 13}, 51200L));
        r.runs.add(BenchResults.failedRun(m, m.artifacts.get(0), 8, 1, 0, 30, "no XNNPACK"));
        return r;
    }

    @Test
    public void writtenResultsAreValid() throws Exception {
        Path out = ResultsWriter.write(tmp.getRoot().toPath().resolve("fitedge_bench"), measured());
        String written = new String(Files.readAllBytes(out), StandardCharsets.UTF_8);
        assertEquals(Collections.emptyList(), ContractSchema.DEVICE_RESULTS.problems(written));
    }

    @Test
    public void resultsOfAnUnreadableBundleAreValid() throws Exception {
        BenchResults failed = BenchResults.failed("/data/local/tmp/x", new BenchResults.Device(), "0.1.0", "no manifest");
        assertEquals(Collections.emptyList(), ContractSchema.DEVICE_RESULTS.problems(ResultsWriter.toJson(failed)));
    }

    @Test
    public void aMissingOrRetypedKeyIsNamed() throws Exception {
        String good = ResultsWriter.toJson(measured());
        assertNamed(good.replace("\"peak_memory_kb\": 51200,", ""), "peak_memory_kb");
        assertNamed(good.replace("\"iterations\": 4", "\"iterations\": \"4\""), "iterations");
        assertNamed(good.replace("\"fitedge.device_bench\"", "\"fitedge.bench\""), "schema");
    }

    private static void assertNamed(String broken, String key) throws Exception {
        List<String> found = ContractSchema.DEVICE_RESULTS.problems(broken);
        assertTrue("no violation found; expected one naming " + key, !found.isEmpty());
        assertTrue(found.toString(), found.stream().anyMatch(p -> p.contains(key)));
    }
}
