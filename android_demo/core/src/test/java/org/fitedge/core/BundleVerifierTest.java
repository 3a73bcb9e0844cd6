package org.fitedge.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class BundleVerifierTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void intactBundleChecksEveryListedFile() throws Exception {
        Path dir = TestBundles.write(tmp.getRoot().toPath());
        List<BundleVerifier.FileCheck> checks = BundleVerifier.verify(dir, ManifestReader.read(dir));
        assertEquals(5, checks.size());
        assertEquals("tiny_fp32.pte", checks.get(0).file);
        assertEquals(Sha256.ofBytes(TestBundles.ARTIFACT), checks.get(0).actualSha256);
        assertEquals(TestBundles.ARTIFACT.length, checks.get(0).bytes);
    }

    @Test
    public void tamperedGoldenFileIsNamed() throws Exception {
        Path dir = TestBundles.write(tmp.getRoot().toPath());
        float[] changed = TestBundles.OUTPUT.clone();
        changed[3] += 1e-3f;
        Files.write(dir.resolve("golden/last_hidden_state.bin"), TestBundles.littleEndian(changed));
        BundleException e = assertThrows(BundleException.class,
                () -> BundleVerifier.verify(dir, ManifestReader.read(dir)));
        assertTrue(e.getMessage(), e.getMessage().contains("golden/last_hidden_state.bin: sha256"));
    }

    @Test
    public void missingAndResizedArtifactsAreBothReported() throws Exception {
        Path dir = TestBundles.write(tmp.getRoot().toPath());
        Files.delete(dir.resolve("golden/input.npy"));
        Files.write(dir.resolve("tiny_fp32.pte"), new byte[] {1, 2, 3});
        BundleException e = assertThrows(BundleException.class,
                () -> BundleVerifier.verify(dir, ManifestReader.read(dir)));
        assertTrue(e.getMessage(), e.getMessage().contains("golden/input.npy: missing"));
        assertTrue(e.getMessage(), e.getMessage().contains("tiny_fp32.pte: 3 bytes, manifest says"));
    }

    @Test
    public void sha256MatchesAKnownVector() {
        // FIPS 180-2 test vector for "abc".
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                Sha256.ofBytes("abc".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
    }
}
