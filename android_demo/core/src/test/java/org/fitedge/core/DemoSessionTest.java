package org.fitedge.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The demo screen's logic (MainActivity's work between the runtime and the widgets) with {@link FakeRunner}s. */
public class DemoSessionTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    /** Opens a session whose opener hands out fresh fake runners and keeps them for inspection. */
    private final List<FakeRunner> opened = new ArrayList<>();

    private DemoSession session() throws Exception {
        Path dir = TestBundles.write(tmp.getRoot().toPath());
        return DemoSession.open(dir, (a, threads) -> {
            FakeRunner r = new FakeRunner(0f, new long[] {1, 3, 2});
            opened.add(r);
            return r;
        }, 2);
    }

    @Test
    public void describesTheVerifiedBundle() throws Exception {
        try (DemoSession s = session()) {
            assertEquals("tiny (untrained weights) — 5 files verified, 0.00 s input at 16000 Hz", s.status());
            assertEquals(Collections.singletonList("executorch fp32 (tiny_fp32.pte)"), s.artifactLabels(a -> null));
            assertEquals(Collections.singletonList("executorch fp32 (tiny_fp32.pte) — unavailable: no runtime"),
                    s.artifactLabels(a -> "executorch".equals(a.runtime) ? "no runtime" : null));
        }
    }

    @Test
    public void liveModeOnABundleWithoutStreamingSaysWhy() throws Exception {
        try (DemoSession s = session()) {
            BundleException e = assertThrows(BundleException.class, () -> s.live(s.manifest().artifacts.get(0)));
            assertTrue(e.getMessage(), e.getMessage().startsWith("this bundle has no streaming section"));
        }
    }

    @Test
    public void aTamperedBundleDoesNotOpen() throws Exception {
        Path dir = TestBundles.write(tmp.getRoot().toPath());
        Files.write(dir.resolve("tiny_fp32.pte"), new byte[] {1, 2, 3});
        BundleException e = assertThrows(BundleException.class,
                () -> DemoSession.open(dir, (a, threads) -> new FakeRunner(0f, new long[] {1}), 1));
        assertTrue(e.getMessage(), e.getMessage().contains("tiny_fp32.pte"));
    }

    @Test
    public void theSampleIsTheWavOrElseTheGoldenInput() throws Exception {
        try (DemoSession s = session()) {
            DemoSession.Clip golden = s.sample(null, "sample.wav");
            assertArrayEquals(TestBundles.INPUT, golden.samples, 0f);
            assertEquals("Sample: the bundle's golden input, 0.00 s", golden.description);

            short[] pcm = {16384, -16384, 0, 0};
            DemoSession.Clip wav = s.sample(WavReaderTest.wav(pcm, 1, 16000, 16, false), "sample.wav");
            assertArrayEquals(new float[] {0.5f, -0.5f, 0f, 0f}, wav.samples, 0f);

            BundleException e = assertThrows(BundleException.class,
                    () -> s.sample(WavReaderTest.wav(pcm, 1, 8000, 16, false), "sample.wav"));
            assertEquals("sample.wav is 8000 Hz, the model takes 16000 Hz; convert it with "
                    + "`sox IN -r 16000 -c 1 -b 16 sample.wav`", e.getMessage());
        }
    }

    @Test
    public void runPadsTheClipAndReusesTheRunnerUntilClosed() throws Exception {
        DemoSession s = session();
        Manifest.Artifact a = s.manifest().artifacts.get(0);
        DemoSession.Inference short3 = s.run(a, new float[] {0.1f, 0.2f, 0.3f});
        DemoSession.Inference exact = s.run(a, TestBundles.INPUT);

        assertEquals(1, opened.size());
        assertEquals(List.of(8, 8), opened.get(0).fedLengths);  // fixed-length artifact: padded to 8 samples
        assertTrue(short3.fitted);
        assertEquals(8 / 16000.0, short3.audioSeconds, 1e-12);
        assertEquals(short3.latencyMs / 0.5, short3.rtf(), 1e-9);
        assertArrayEquals(TestBundles.OUTPUT, short3.firstOutput.data, 0f);
        assertTrue(short3.summary(), short3.summary().startsWith("executorch fp32 (tiny_fp32.pte)\nlatency "));
        assertTrue(short3.summary(),
                short3.summary().endsWith("of audio, padded/cropped)\nlast_hidden_state [1, 3, 2]"));
        assertTrue(exact.summary(), exact.summary().contains("(0.00 s of audio)\n"));

        s.close();
        assertTrue(opened.get(0).closed);
    }

    @Test
    public void selfTestRunsTheGoldenInputThroughTheSameRunner() throws Exception {
        try (DemoSession s = session()) {
            Manifest.Artifact a = s.manifest().artifacts.get(0);
            s.run(a, TestBundles.INPUT);
            SelfTest t = s.selfTest(a);
            assertTrue(t.summary(), t.passed());
            assertEquals(1, opened.size());
        }
    }

    @Test
    public void secondsMustBeBetweenZeroAndSixty() throws Exception {
        assertEquals(4.0, DemoSession.parseSeconds(" 4 "), 0);
        assertEquals(60.0, DemoSession.parseSeconds("60"), 0);
        for (String bad : new String[] {"0", "61", "", "four"}) {
            BundleException e = assertThrows(BundleException.class, () -> DemoSession.parseSeconds(bad));
            assertEquals("seconds must be a number between 0 and 60", e.getMessage());
        }
    }
}
