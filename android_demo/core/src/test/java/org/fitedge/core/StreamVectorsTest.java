package org.fitedge.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assume.assumeTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import org.junit.Test;

/**
 * The cross-language check: a vectors file written on the Python side (wav, feed sizes, the frames and phonemes
 * Python's stream emitted over the contract's fake model, and where each window lay; the same with shift_start
 * and with fill_edges)
 * replayed through this core's FrameStream and CtcGreedy.
 * The file comes from {@code -Dfitedge.streamVectors=FILE} (run_tests.sh passes $FITEDGE_STREAM_VECTORS).
 */
public class StreamVectorsTest {
    static final double TOL = 1e-5;

    @Test
    public void javaStreamReproducesThePythonVectors() throws Exception {
        String file = System.getProperty("fitedge.streamVectors");
        assumeTrue("StreamVectorsTest skipped: no vectors file (set FITEDGE_STREAM_VECTORS for run_tests.sh)",
                file != null && !file.isEmpty());
        JsonObject v = JsonParser.parseString(new String(Files.readAllBytes(Paths.get(file)), StandardCharsets.UTF_8))
                .getAsJsonObject();
        StreamGeometry g = new StreamGeometry(v.get("chunk_frames").getAsInt(), v.get("left_frames").getAsInt(),
                v.get("right_frames").getAsInt(), v.get("frame_hop_samples").getAsInt(),
                v.get("receptive_field_samples").getAsInt());
        assertEquals(v.get("window_samples").getAsInt(), g.windowSamples());
        float[] wav = floats(v.getAsJsonArray("wav"));

        List<float[]> frames = replay(v, v, g, wav, "", false, false);
        replay(v, v.getAsJsonObject("shifted"), g, wav, "shifted: ", true, false);
        replay(v, v.getAsJsonObject("filled"), g, wav, "filled: ", false, true);
        List<String> tokens = new ArrayList<>();
        for (JsonElement t : v.getAsJsonArray("tokens")) {
            tokens.add(t.getAsString());
        }
        List<String> phonemes = new ArrayList<>();
        for (JsonElement p : v.getAsJsonArray("phonemes")) {
            phonemes.add(p.getAsString());
        }
        assertEquals(phonemes, new CtcGreedy(tokens).accept(frames));
        // Read by tests/android_demo/test_android_core.py: proof that the file was checked, not skipped.
        System.out.println("StreamVectorsTest: " + frames.size() + " frames, " + phonemes.size()
                + " phonemes match " + file);
    }

    /**
     * Streams {@code wav} in the vectors' feed sizes ({@code shiftStart}, {@code fillEdges} as given; {@code which}
     * prefixes the messages) and checks the frames emitted
     * after each piece, the frames and the windows the model saw against {@code expected}; returns the frames.
     */
    private static List<float[]> replay(JsonObject v, JsonObject expected, StreamGeometry g, float[] wav,
            String which, boolean shiftStart, boolean fillEdges) throws Exception {
        FakeStreamModel model = new FakeStreamModel(g);
        FrameStream stream = new FrameStream(g, model, 0, shiftStart, fillEdges);
        List<float[]> frames = new ArrayList<>();
        List<Long> emitted = new ArrayList<>();
        int at = 0;
        for (JsonElement size : v.getAsJsonArray("feed_sizes")) {
            frames.addAll(stream.accept(wav, at, size.getAsInt()));
            at += size.getAsInt();
            emitted.add(stream.emitted());
        }
        assertEquals("feed_sizes add up to the wav", wav.length, at);
        frames.addAll(stream.flush());
        emitted.add(stream.emitted());

        JsonArray expectedEmitted = expected.getAsJsonArray("emitted_after_feed");
        assertEquals(which + "feeds", expectedEmitted.size(), emitted.size());
        for (int i = 0; i < emitted.size(); i++) {
            assertEquals(which + "emitted after feed " + i, expectedEmitted.get(i).getAsLong(), (long) emitted.get(i));
        }
        JsonArray expectedFrames = expected.getAsJsonArray("frames");
        assertEquals(which + "frames", expectedFrames.size(), frames.size());
        for (int f = 0; f < frames.size(); f++) {
            float[] want = floats(expectedFrames.get(f).getAsJsonArray());
            assertEquals(want.length, frames.get(f).length);
            for (int d = 0; d < want.length; d++) {
                assertEquals(which + "frame " + f + " feature " + d, want[d], frames.get(f)[d], TOL);
            }
        }
        JsonArray expectedWindows = expected.getAsJsonArray("windows");
        assertEquals(which + "windows run", expectedWindows.size(), model.windows.size());
        for (int k = 0; k < model.windows.size(); k++) {
            double[] got = fingerprint(model.windows.get(k));
            JsonArray want = expectedWindows.get(k).getAsJsonArray();
            for (int i = 0; i < got.length; i++) {
                assertEquals(which + "window " + k + " fingerprint " + i, want.get(i).getAsDouble(), got[i], 1e-9);
            }
        }
        return frames;
    }

    /** Where a window lies in the audio: sum, position-weighted sum / N (window_fingerprint in Python). */
    private static double[] fingerprint(float[] x) {
        double sum = 0;
        double weighted = 0;
        for (int i = 0; i < x.length; i++) {
            sum += x[i];
            weighted += (double) i * x[i];
        }
        return new double[] {sum, weighted / x.length};
    }

    private static float[] floats(JsonArray a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsFloat();
        }
        return out;
    }
}
