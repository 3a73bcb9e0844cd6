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

/** The test manifests satisfy the repository's JSON Schema, and the schema catches what ManifestReader relies on. */
public class ManifestSchemaTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private static final String SHA = "ab".repeat(32);

    @Test
    public void testBundleManifestsAreValid() throws Exception {
        Path dir = TestBundles.write(tmp.getRoot().toPath());
        String written = new String(Files.readAllBytes(dir.resolve(Manifest.FILE_NAME)), StandardCharsets.UTF_8);
        assertEquals(Collections.emptyList(), ContractSchema.MANIFEST.problems(written));
        assertEquals(Collections.emptyList(),
                ContractSchema.MANIFEST.problems(TestBundles.manifestJson(SHA, SHA, SHA, "false")));
    }

    @Test
    public void removedRequiredKeyIsNamed() throws Exception {
        String good = TestBundles.manifestJson(SHA, SHA, SHA, "true");
        assertNamed(good.replace(" \"sha256\": \"" + SHA + "\", \"parity\"", " \"parity\""), "sha256");
        assertNamed(good.replace("\"runtime_version\": \"1.4.1\", ", ""), "runtime_version");
        assertNamed(good.replace(" \"time_reduction_factor\": 1,", ""), "time_reduction_factor");
    }

    @Test
    public void wrongTypesAndUnknownRuntimesAreRejected() throws Exception {
        String good = TestBundles.manifestJson(SHA, SHA, SHA, "true");
        assertNamed(good.replace("\"input_samples\": 8", "\"input_samples\": \"8\""), "input_samples");
        assertNamed(good.replace("\"runtime\": \"executorch\"", "\"runtime\": \"tvm\""), "runtime");
        assertNamed(good.replace("\"sha256\": \"" + SHA + "\", \"parity\"", "\"sha256\": \"xyz\", \"parity\""),
                "sha256");
    }

    private static void assertNamed(String broken, String key) throws Exception {
        List<String> found = ContractSchema.MANIFEST.problems(broken);
        assertTrue("no violation found; expected one naming " + key, !found.isEmpty());
        assertTrue(found.toString(), found.stream().anyMatch(p -> p.contains(key)));
    }
}
