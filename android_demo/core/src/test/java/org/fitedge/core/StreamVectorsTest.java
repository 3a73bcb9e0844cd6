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
 * Python's stream emitted over the contract's fake model) replayed through this core's FrameStream and CtcGreedy.
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

        FrameStream stream = new FrameStream(g, new FakeStreamModel(g), 0);
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

        JsonArray expectedEmitted = v.getAsJsonArray("emitted_after_feed");
        assertEquals(expectedEmitted.size(), emitted.size());
        for (int i = 0; i < emitted.size(); i++) {
            assertEquals("emitted after feed " + i, expectedEmitted.get(i).getAsLong(), (long) emitted.get(i));
        }
        JsonArray expectedFrames = v.getAsJsonArray("frames");
        assertEquals(expectedFrames.size(), frames.size());
        for (int f = 0; f < frames.size(); f++) {
            float[] expected = floats(expectedFrames.get(f).getAsJsonArray());
            assertEquals(expected.length, frames.get(f).length);
            for (int d = 0; d < expected.length; d++) {
                assertEquals("frame " + f + " feature " + d, expected[d], frames.get(f)[d], TOL);
            }
        }
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

    private static float[] floats(JsonArray a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsFloat();
        }
        return out;
    }
}
