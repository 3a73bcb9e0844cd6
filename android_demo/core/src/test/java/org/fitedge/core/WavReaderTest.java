package org.fitedge.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.Test;

public class WavReaderTest {
    /** A canonical PCM WAV, optionally with an odd-sized LIST chunk before the data (word padding). */
    static byte[] wav(short[] interleaved, int channels, int rate, int bits, boolean listChunk) {
        int list = listChunk ? 8 + 3 + 1 : 0;
        ByteBuffer b = ByteBuffer.allocate(12 + 24 + list + 8 + interleaved.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(b.capacity() - 8);
        b.put("WAVE".getBytes(StandardCharsets.US_ASCII));
        b.put("fmt ".getBytes(StandardCharsets.US_ASCII)).putInt(16).putShort((short) 1).putShort((short) channels)
                .putInt(rate).putInt(rate * channels * 2).putShort((short) (channels * 2)).putShort((short) bits);
        if (listChunk) {
            b.put("LIST".getBytes(StandardCharsets.US_ASCII)).putInt(3).put(new byte[] {1, 2, 3, 0});
        }
        b.put("data".getBytes(StandardCharsets.US_ASCII)).putInt(interleaved.length * 2);
        for (short s : interleaved) {
            b.putShort(s);
        }
        return b.array();
    }

    @Test
    public void monoPcm16IsScaledBy32768() throws Exception {
        short[] pcm = {0, 16384, -32768, 32767};
        WavReader.Waveform w = WavReader.decode(wav(pcm, 1, 16000, 16, true), "a.wav");
        assertEquals(16000, w.sampleRate);
        assertArrayEquals(new float[] {0f, 0.5f, -1f, 32767f / 32768f}, w.samples, 0f);
        assertEquals(4 / 16000.0, w.seconds(), 1e-12);
    }

    @Test
    public void stereoIsAveragedToMono() throws Exception {
        short[] pcm = {16384, 0, -16384, -16384};
        WavReader.Waveform w = WavReader.decode(wav(pcm, 2, 8000, 16, false), "s.wav");
        assertArrayEquals(new float[] {0.25f, -0.5f}, w.samples, 0f);
        assertEquals(8000, w.sampleRate);
    }

    @Test
    public void otherEncodingsAreRefusedWithAFix() {
        BundleException e = assertThrows(BundleException.class,
                () -> WavReader.decode(wav(new short[] {1, 2}, 1, 16000, 8, false), "b.wav"));
        assertTrue(e.getMessage(), e.getMessage().contains("sox"));
        assertThrows(BundleException.class,
                () -> WavReader.decode("not a wav at all".getBytes(StandardCharsets.US_ASCII), "c"));
    }

    @Test
    public void pcmFromAudioRecordUsesTheSameScale() {
        assertArrayEquals(new float[] {-1f, 0.5f}, Pcm16.toFloat(new short[] {-32768, 16384, 99}, 2), 0f);
    }
}
