package org.fitedge.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.Test;

public class FrameStreamTest {
    static final StreamGeometry GEOMETRY = new StreamGeometry(4, 6, 2, 320, 400);
    static final int[] FEEDS = {1000, 3337, 160, 1, 7777, 2048, 5, 999};

    /** 1.3 s of a noisy chirp with two pauses (blank frames for CTC), written as a 16-bit WAV and read back by the core's WavReader. */
    static float[] speechLikeWav() throws BundleException {
        Random random = new Random(7);
        short[] pcm = new short[20800];
        for (int i = 0; i < pcm.length; i++) {
            double t = i / 16000.0;
            if (t >= 0.4 && t < 0.6 || t >= 0.9 && t < 1.0) {
                continue;
            }
            pcm[i] = (short) Math.round(12000 * Math.sin(2 * Math.PI * (120 + 300 * t) * t) + 800 * random.nextGaussian());
        }
        return WavReader.decode(WavReaderTest.wav(pcm, 1, 16000, 16, false), "chirp.wav").samples;
    }

    /** Feeds {@code wav} in the uneven {@link #FEEDS} pieces, cycling; records the emitted count after each. */
    static List<float[]> stream(FrameStream stream, float[] wav, List<Long> emittedAfterFeed) throws Exception {
        List<float[]> frames = new ArrayList<>();
        for (int at = 0, i = 0; at < wav.length; i++) {
            int n = Math.min(FEEDS[i % FEEDS.length], wav.length - at);
            frames.addAll(stream.accept(wav, at, n));
            at += n;
            emittedAfterFeed.add(stream.emitted());
        }
        frames.addAll(stream.flush());
        return frames;
    }

    @Test
    public void everyFrameOnceInOrderEqualToItsWindowComputedAlone() throws Exception {
        float[] wav = speechLikeWav();
        FakeStreamModel model = new FakeStreamModel(GEOMETRY);
        List<Long> emitted = new ArrayList<>();
        List<float[]> frames = stream(new FrameStream(GEOMETRY, model, 0), wav, emitted);

        long total = GEOMETRY.totalFrames(wav.length);
        assertEquals((wav.length - 400) / 320 + 1, total);
        assertEquals(total, frames.size());
        for (int g = 0; g < total; g++) {
            // Non-streamed: frame g computed from its own window of the zero-padded utterance.
            int k = g / GEOMETRY.chunkFrames;
            float[] window = new float[GEOMETRY.windowSamples()];
            long start = GEOMETRY.windowStart(k);
            for (int i = 0; i < window.length; i++) {
                long s = start + i;
                window[i] = s >= 0 && s < wav.length ? wav[(int) s] : 0f;
            }
            int local = GEOMETRY.leftFrames + g % GEOMETRY.chunkFrames;
            float[] alone = FakeStreamModel.frame(window, local * 320, 400);
            assertArrayEquals("frame " + g, alone, frames.get(g), 0f);
            // ...and it is the full utterance's frame g: its last feature is the sample g*H + R - 1.
            assertEquals(wav[g * 320 + 399], frames.get(g)[3], 0f);
        }
        // Windows run as soon as complete: after each feed, C frames per window whose N samples have all arrived.
        long received = 0;
        for (int i = 0; i < emitted.size(); i++) {
            received += Math.min(FEEDS[i % FEEDS.length], wav.length - received);
            long complete = 0;
            while (GEOMETRY.windowStart(complete) + GEOMETRY.windowSamples() <= received) {
                complete++;
            }
            assertEquals("after feed " + i, complete * GEOMETRY.chunkFrames, (long) emitted.get(i));
        }
        assertEquals((total + 3) / 4, model.windows.size());
    }

    @Test
    public void onePieceOrManyGiveTheSameFrames() throws Exception {
        float[] wav = Arrays.copyOf(speechLikeWav(), 9000);
        FrameStream whole = new FrameStream(GEOMETRY, new FakeStreamModel(GEOMETRY), 0);
        List<float[]> once = new ArrayList<>(whole.accept(wav, 0, wav.length));
        once.addAll(whole.flush());
        List<float[]> pieces = stream(new FrameStream(GEOMETRY, new FakeStreamModel(GEOMETRY), 0), wav,
                new ArrayList<Long>());
        assertEquals(GEOMETRY.totalFrames(9000), once.size());
        for (int g = 0; g < once.size(); g++) {
            assertArrayEquals(once.get(g), pieces.get(g), 0f);
        }
    }

    @Test
    public void audioShorterThanTheReceptiveFieldHasNoFrames() throws Exception {
        FrameStream stream = new FrameStream(GEOMETRY, new FakeStreamModel(GEOMETRY), 0);
        assertTrue(stream.accept(new float[399], 0, 399).isEmpty());
        assertTrue(stream.flush().isEmpty());
        assertThrows(IllegalStateException.class, () -> stream.accept(new float[1], 0, 1));
    }

    @Test
    public void aModelWithTheWrongFrameCountIsRefusedWithTheShapes() {
        ModelRunner wrong = new FakeStreamModel(GEOMETRY) {
            @Override
            public List<FloatTensor> run(float[] wav) {
                return Collections.singletonList(new FloatTensor(new float[8], new long[] {1, 2, 4}));
            }
        };
        FrameStream stream = new FrameStream(GEOMETRY, wrong, 0);
        ModelRunner.InferenceException e = assertThrows(ModelRunner.InferenceException.class,
                () -> stream.accept(new float[5000], 0, 5000));
        assertTrue(e.getMessage(), e.getMessage().contains("[1, 2, 4]") && e.getMessage().contains("[1, 12, D]"));
    }

    @Test
    public void geometryFollowsTheContract() throws Exception {
        assertEquals(12, GEOMETRY.windowFrames());
        assertEquals(11 * 320 + 400, GEOMETRY.windowSamples());
        assertEquals(-1920, GEOMETRY.windowStart(0));
        assertEquals(0, GEOMETRY.totalFrames(399));
        assertEquals(1, GEOMETRY.totalFrames(400));
        assertEquals(2, GEOMETRY.totalFrames(720));
        assertEquals((6 * 320 + 80) / 16.0, GEOMETRY.algorithmicLatencyMs(16000), 1e-12);
    }

    @Test
    public void theManifestsStreamingSectionIsChecked() throws Exception {
        Manifest m = new Manifest();
        BundleException none = assertThrows(BundleException.class, () -> StreamGeometry.of(m));
        assertTrue(none.getMessage(), none.getMessage().contains("no streaming section"));
        m.streaming = new Manifest.Streaming();
        m.streaming.chunkFrames = 4;
        m.streaming.leftFrames = 6;
        m.streaming.rightFrames = 2;
        m.streaming.frameHopSamples = 320;
        m.streaming.receptiveFieldSamples = 400;
        m.streaming.windowSamples = 3920;
        assertEquals(3920, StreamGeometry.of(m).windowSamples());
        m.streaming.windowSamples = 4000;
        BundleException wrong = assertThrows(BundleException.class, () -> StreamGeometry.of(m));
        assertTrue(wrong.getMessage(), wrong.getMessage().contains("window_samples is 4000") && wrong.getMessage().contains("3920"));
    }
}
