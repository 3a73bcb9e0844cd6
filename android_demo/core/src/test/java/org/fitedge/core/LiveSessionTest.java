package org.fitedge.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class LiveSessionTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    /** A streamed bundle's manifest: one window-sized artifact, with a CTC head on output 1 if {@code head}. */
    static Manifest manifest(boolean head) {
        Manifest m = new Manifest();
        m.audio = new Manifest.Audio();
        m.audio.sampleRate = 16000;
        m.audio.inputSamples = 3920;
        m.outputs = new ArrayList<>();
        for (String name : head ? new String[] {"last_hidden_state", "logits"} : new String[] {"last_hidden_state"}) {
            Manifest.Output o = new Manifest.Output();
            o.name = name;
            m.outputs.add(o);
        }
        m.streaming = new Manifest.Streaming();
        m.streaming.chunkFrames = 4;
        m.streaming.leftFrames = 6;
        m.streaming.rightFrames = 2;
        m.streaming.frameHopSamples = 320;
        m.streaming.receptiveFieldSamples = 400;
        m.streaming.windowSamples = 3920;
        m.head = head ? new Manifest.Head() : null;
        return m;
    }

    static Manifest.Artifact artifact() {
        Manifest.Artifact a = new Manifest.Artifact();
        a.file = "stream_int8.tflite";
        return a;
    }

    /** The fake model with a second output: the same frames as CTC logits. */
    static ModelRunner withLogits() {
        FakeStreamModel fake = new FakeStreamModel(FrameStreamTest.GEOMETRY);
        return new FakeStreamModel(FrameStreamTest.GEOMETRY) {
            @Override
            public List<FloatTensor> run(float[] wav) {
                FloatTensor frames = fake.run(wav).get(0);
                return Arrays.asList(new FloatTensor(new float[frames.data.length], frames.shape()), frames);
            }
        };
    }

    @Test
    public void phonemesAsDecidedMatchDecodingAllFramesAtOnce() throws Exception {
        Files.write(tmp.getRoot().toPath().resolve("tokens.txt"), "<blank>\na\nb\nc\n".getBytes(StandardCharsets.UTF_8));
        LiveSession live = new LiveSession(manifest(true), artifact(), tmp.getRoot().toPath(), withLogits());
        float[] wav = FrameStreamTest.speechLikeWav();
        List<String> decided = new ArrayList<>();
        assertTrue(Double.isNaN(live.rtf()) && Double.isNaN(live.firstFrameMs()));
        for (int at = 0; at < wav.length; at += 1600) {
            int n = Math.min(1600, wav.length - at);
            decided.addAll(live.accept(Arrays.copyOfRange(wav, at, at + n), n, System.nanoTime()).phonemes);
        }
        LiveSession.Update last = live.flush();
        decided.addAll(last.phonemes);

        FrameStream reference = new FrameStream(FrameStreamTest.GEOMETRY, new FakeStreamModel(FrameStreamTest.GEOMETRY), 0);
        List<float[]> frames = new ArrayList<>(reference.accept(wav, 0, wav.length));
        frames.addAll(reference.flush());
        List<String> expected = new CtcGreedy(CtcGreedyTest.TOKENS).accept(frames);
        // Both pauses are blanks: the fake logits' argmax is `a` in sound and the blank in silence.
        assertEquals(Arrays.asList("a", "a", "a"), expected);
        assertEquals(expected, decided);
        assertEquals(String.join(" ", expected), live.transcript());
        assertEquals(frames.size(), last.frames);
        assertTrue(live.rtf() > 0 && live.rtf() < 10);
        // The first piece was 100 ms of audio: frame 0 cannot be emitted before it was recorded.
        assertTrue(String.valueOf(live.firstFrameMs()), live.firstFrameMs() >= 100);
        assertEquals(125.0, live.algorithmicLatencyMs(), 1e-9);
        assertTrue(live.summary(), live.summary().startsWith("a a a\nframes " + frames.size() + ", RTF 0.")
                && live.summary().endsWith(" ms, algorithmic latency 125 ms"));
    }

    @Test
    public void withoutAHeadLiveModeSaysWhyThereAreNoPhonemes() throws Exception {
        Path dir = tmp.getRoot().toPath();
        LiveSession live = new LiveSession(manifest(false), artifact(), dir, new FakeStreamModel(FrameStreamTest.GEOMETRY));
        LiveSession.Update u = live.accept(new float[8000], 8000, System.nanoTime());
        assertTrue(u.phonemes.isEmpty() && u.frames > 0);
        assertTrue(live.transcript(), live.transcript().startsWith("no phonemes: this bundle has no CTC head"));
    }

    @Test
    public void anArtifactOfAnotherLengthIsRefused() {
        Manifest m = manifest(false);
        m.audio.inputSamples = 16000;
        BundleException e = assertThrows(BundleException.class,
                () -> new LiveSession(m, artifact(), tmp.getRoot().toPath(), new FakeStreamModel(FrameStreamTest.GEOMETRY)));
        assertTrue(e.getMessage(), e.getMessage().contains("takes 16000 samples but a stream window is 3920"));
    }
}
