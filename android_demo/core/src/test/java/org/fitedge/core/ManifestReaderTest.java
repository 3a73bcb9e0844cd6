package org.fitedge.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.file.Path;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class ManifestReaderTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private static final String SHA = "ab".repeat(32);

    @Test
    public void readsTheContractFields() throws Exception {
        Path dir = TestBundles.write(tmp.getRoot().toPath());
        Manifest m = ManifestReader.read(dir);
        assertEquals("tiny", m.model.name);
        assertEquals(16000, m.audio.sampleRate);
        assertEquals(8, (int) m.audio.inputSamples);
        assertArrayEquals(new long[] {1, 3, 2}, m.outputs.get(0).shape);
        assertEquals(20.0, m.outputs.get(0).frameHopMs, 0);
        assertEquals("golden/last_hidden_state.bin", m.golden.outputs.get("last_hidden_state").bin);
        Manifest.Artifact a = m.artifacts.get(0);
        assertTrue(a.fixedLength());
        assertEquals("executorch fp32 (tiny_fp32.pte)", a.label());
        assertEquals(0.001, ManifestReader.thresholds(m, a).maxAbsDiff, 0);
    }

    @Test
    public void dynamicArtifactIsNotFixedLength() throws Exception {
        Manifest m = ManifestReader.parse(TestBundles.manifestJson(SHA, SHA, SHA, "false"), "m");
        assertFalse(m.artifacts.get(0).fixedLength());
        assertEquals(12, (int) m.audio.maxSamples);
    }

    @Test
    public void rejectsOtherSchemasAndVersions() {
        String good = TestBundles.manifestJson(SHA, SHA, SHA, "true");
        BundleException e = assertThrows(BundleException.class,
                () -> ManifestReader.parse(good.replace("fitedge.bundle", "other"), "m.json"));
        assertTrue(e.getMessage(), e.getMessage().contains("not a fitedge.bundle manifest"));
        e = assertThrows(BundleException.class,
                () -> ManifestReader.parse(good.replace("\"schema_version\": 1", "\"schema_version\": 2"), "m"));
        assertTrue(e.getMessage(), e.getMessage().contains("schema_version 2"));
        e = assertThrows(BundleException.class, () -> ManifestReader.parse("{not json", "m"));
        assertTrue(e.getMessage(), e.getMessage().contains("not valid JSON"));
    }

    @Test
    public void rejectsMissingRequiredFields() {
        String noArtifacts = TestBundles.manifestJson(SHA, SHA, SHA, "true")
                .replaceAll("\"artifacts\": \\[.*\\]", "\"artifacts\": []");
        BundleException e = assertThrows(BundleException.class, () -> ManifestReader.parse(noArtifacts, "m"));
        assertTrue(e.getMessage(), e.getMessage().contains("artifacts"));
        String noGoldenOutput = TestBundles.manifestJson(SHA, SHA, SHA, "true")
                .replace("\"outputs\": {\"last_hidden_state\":", "\"outputs\": {\"other\":");
        e = assertThrows(BundleException.class, () -> ManifestReader.parse(noGoldenOutput, "m"));
        assertTrue(e.getMessage(), e.getMessage().contains("golden.outputs.last_hidden_state"));
    }

    @Test
    public void missingFolderSaysHowToExport() {
        BundleException e = assertThrows(BundleException.class,
                () -> ManifestReader.read(tmp.getRoot().toPath().resolve("nope")));
        assertTrue(e.getMessage(), e.getMessage().contains("fitedge export"));
    }

    @Test
    public void unknownArtifactListsTheKnownOnes() throws Exception {
        Manifest m = ManifestReader.parse(TestBundles.manifestJson(SHA, SHA, SHA, "true"), "m");
        BundleException e = assertThrows(BundleException.class, () -> ManifestReader.artifact(m, "x.tflite"));
        assertTrue(e.getMessage(), e.getMessage().contains("it has: tiny_fp32.pte"));
        Manifest.Artifact a = ManifestReader.artifact(m, "tiny_fp32.pte");
        a.precision = "fp16";
        assertThrows(BundleException.class, () -> ManifestReader.thresholds(m, a));
    }
}
