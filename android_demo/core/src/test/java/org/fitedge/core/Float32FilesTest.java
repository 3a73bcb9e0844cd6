package org.fitedge.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class Float32FilesTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void binIsLittleEndianWithTheManifestShape() throws Exception {
        Path p = tmp.getRoot().toPath().resolve("x.bin");
        // 1.0f is 0x3F800000: little-endian puts the zero bytes first.
        Files.write(p, new byte[] {0, 0, (byte) 0x80, 0x3F, 0, 0, 0, (byte) 0xC0});
        FloatTensor t = Float32Files.readBin(p, new long[] {1, 2});
        assertArrayEquals(new float[] {1f, -2f}, t.data, 0f);
        assertArrayEquals(new long[] {1, 2}, t.shape());
    }

    @Test
    public void binOfTheWrongSizeIsRefused() throws Exception {
        Path p = tmp.getRoot().toPath().resolve("x.bin");
        Files.write(p, TestBundles.littleEndian(new float[] {1f, 2f, 3f}));
        BundleException e = assertThrows(BundleException.class, () -> Float32Files.readBin(p, new long[] {1, 4}));
        assertTrue(e.getMessage(), e.getMessage().contains("12 bytes"));
    }

    @Test
    public void npyHeaderGivesShapeAndData() throws Exception {
        Path p = tmp.getRoot().toPath().resolve("x.npy");
        Files.write(p, TestBundles.npy(TestBundles.OUTPUT, "(1, 3, 2)"));
        FloatTensor t = Float32Files.readNpy(p);
        assertArrayEquals(new long[] {1, 3, 2}, t.shape());
        assertArrayEquals(TestBundles.OUTPUT, t.data, 0f);
    }

    @Test
    public void npyOfAnotherDtypeIsRefused() throws Exception {
        Path p = tmp.getRoot().toPath().resolve("x.npy");
        byte[] f64 = new String(TestBundles.npy(new float[] {1f, 2f}, "(4,)"), StandardCharsets.ISO_8859_1)
                .replace("<f4", "<f8").getBytes(StandardCharsets.ISO_8859_1);
        Files.write(p, f64);
        BundleException e = assertThrows(BundleException.class, () -> Float32Files.readNpy(p));
        assertTrue(e.getMessage(), e.getMessage().contains("<f8"));
        Files.write(p, "hello, not numpy".getBytes(StandardCharsets.US_ASCII));
        assertThrows(BundleException.class, () -> Float32Files.readNpy(p));
    }
}
