package org.fitedge.core;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Decodes RIFF/WAVE files holding 16-bit PCM (the format Android records and espeak-ng/sox write) into mono
 * float32. Other encodings are refused with a message rather than misread.
 */
public final class WavReader {
    private static final int PCM = 1;
    private static final int EXTENSIBLE = 0xFFFE;

    private WavReader() {
    }

    /** Mono float32 samples and the file's sample rate. */
    public static final class Waveform {
        public final float[] samples;
        public final int sampleRate;

        public Waveform(float[] samples, int sampleRate) {
            this.samples = samples;
            this.sampleRate = sampleRate;
        }

        public double seconds() {
            return samples.length / (double) sampleRate;
        }
    }

    /** Decodes a whole WAV file; {@code name} labels errors. */
    public static Waveform decode(byte[] wav, String name) throws BundleException {
        ByteBuffer b = ByteBuffer.wrap(wav).order(ByteOrder.LITTLE_ENDIAN);
        if (wav.length < 12 || b.getInt(0) != fourCC("RIFF") || b.getInt(8) != fourCC("WAVE")) {
            throw new BundleException(name + ": not a RIFF/WAVE file");
        }
        int channels = 0;
        int sampleRate = 0;
        int bits = 0;
        int format = 0;
        int pos = 12;
        while (pos + 8 <= wav.length) {
            int id = b.getInt(pos);
            long size = Integer.toUnsignedLong(b.getInt(pos + 4));
            int body = pos + 8;
            if (id == fourCC("fmt ") && size >= 16) {
                format = Short.toUnsignedInt(b.getShort(body));
                channels = Short.toUnsignedInt(b.getShort(body + 2));
                sampleRate = b.getInt(body + 4);
                bits = Short.toUnsignedInt(b.getShort(body + 14));
            } else if (id == fourCC("data")) {
                if (channels == 0) {
                    throw new BundleException(name + ": data chunk before fmt chunk");
                }
                if ((format != PCM && format != EXTENSIBLE) || bits != 16) {
                    throw new BundleException(name + ": only 16-bit PCM WAV is supported (format " + format + ", "
                            + bits + " bits); convert with `sox IN -b 16 OUT.wav`");
                }
                // Streaming writers leave the size at 0 or 0xFFFFFFFF: then the data runs to the end of the file.
                int length = (int) Math.min(size == 0 ? Long.MAX_VALUE : size, wav.length - body);
                return new Waveform(Pcm16.interleavedToMono(wav, body, length, channels), sampleRate);
            }
            if (size > wav.length - body) {
                break;
            }
            pos = body + (int) size + (int) (size & 1);  // chunks are word-aligned
        }
        throw new BundleException(name + ": no data chunk");
    }

    private static int fourCC(String s) {
        return (s.charAt(0)) | (s.charAt(1) << 8) | (s.charAt(2) << 16) | (s.charAt(3) << 24);
    }
}
