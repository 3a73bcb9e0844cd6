package org.fitedge.demo;

import android.media.AudioFormat;
import android.media.AudioRecord;
import android.media.AudioTrack;
import android.media.MediaRecorder;
import java.util.function.BooleanSupplier;
import org.fitedge.core.Pcm16;

/**
 * Microphone in and speaker out at the model's rate: AudioRecord 16-bit mono PCM, scaled like the host
 * ({@link Pcm16}), recorded as one clip or streamed in pieces, and AudioTrack float playback of a clip. The
 * caller holds the RECORD_AUDIO permission before {@link #record} or {@link #stream}.
 */
final class AudioCapture {
    private AudioCapture() {
    }

    /** Records {@code seconds} of audio at {@code sampleRate}; blocks until done, so call it off the UI thread. */
    @SuppressWarnings("MissingPermission")  // MainActivity asks for RECORD_AUDIO before calling this
    static float[] record(int sampleRate, double seconds) {
        int total = (int) Math.round(seconds * sampleRate);
        AudioRecord recorder = open(sampleRate);
        short[] pcm = new short[total];
        try {
            recorder.startRecording();
            int read = 0;
            while (read < total) {
                int n = recorder.read(pcm, read, total - read);
                if (n < 0) {
                    throw new IllegalStateException("AudioRecord.read failed with code " + n);
                }
                read += n;
            }
        } finally {
            recorder.stop();
            recorder.release();
        }
        return Pcm16.toFloat(pcm, total);
    }

    /** A 16-bit mono recorder at {@code sampleRate} with 0.4 s of buffer, initialised or an error saying why not. */
    @SuppressWarnings("MissingPermission")  // only reached through record/stream, whose callers hold it
    private static AudioRecord open(int sampleRate) {
        int minBuffer = AudioRecord.getMinBufferSize(sampleRate, AudioFormat.CHANNEL_IN_MONO,
                AudioFormat.ENCODING_PCM_16BIT);
        if (minBuffer <= 0) {
            throw new IllegalStateException("this device cannot record 16-bit mono at " + sampleRate + " Hz");
        }
        AudioRecord recorder = new AudioRecord(MediaRecorder.AudioSource.VOICE_RECOGNITION, sampleRate,
                AudioFormat.CHANNEL_IN_MONO, AudioFormat.ENCODING_PCM_16BIT, Math.max(minBuffer, sampleRate / 5 * 2));
        if (recorder.getState() != AudioRecord.STATE_INITIALIZED) {
            recorder.release();
            throw new IllegalStateException("the microphone is unavailable (is another app recording?)");
        }
        return recorder;
    }

    /** Where {@link #stream} hands each piece of audio as it is read. */
    interface Sink {
        void accept(float[] samples, int length, long readAtNanos) throws Exception;
    }

    /**
     * Records until {@code keepGoing} turns false, handing {@code sink} 20 ms pieces as they arrive (the stream's
     * latency is then set by its window, not by the read size); blocks, so call it off the UI thread.
     */
    @SuppressWarnings("MissingPermission")  // MainActivity asks for RECORD_AUDIO before calling this
    static void stream(int sampleRate, BooleanSupplier keepGoing, Sink sink) throws Exception {
        AudioRecord recorder = open(sampleRate);
        short[] pcm = new short[sampleRate / 50];
        try {
            recorder.startRecording();
            while (keepGoing.getAsBoolean()) {
                int n = recorder.read(pcm, 0, pcm.length);
                if (n < 0) {
                    throw new IllegalStateException("AudioRecord.read failed with code " + n);
                }
                sink.accept(Pcm16.toFloat(pcm, n), n, System.nanoTime());
            }
        } finally {
            recorder.stop();
            recorder.release();
        }
    }

    /** Starts playing a float clip once; the track releases itself at the end. Call on the UI thread. */
    static void play(float[] clip, int sampleRate) {
        AudioTrack track = new AudioTrack.Builder()
                .setAudioFormat(new AudioFormat.Builder()
                        .setEncoding(AudioFormat.ENCODING_PCM_FLOAT)
                        .setSampleRate(sampleRate)
                        .setChannelMask(AudioFormat.CHANNEL_OUT_MONO)
                        .build())
                .setTransferMode(AudioTrack.MODE_STATIC)
                .setBufferSizeInBytes(clip.length * Float.BYTES)
                .build();
        track.write(clip, 0, clip.length, AudioTrack.WRITE_BLOCKING);
        track.setNotificationMarkerPosition(clip.length);
        track.setPlaybackPositionUpdateListener(new AudioTrack.OnPlaybackPositionUpdateListener() {
            @Override
            public void onMarkerReached(AudioTrack t) {
                t.release();
            }

            @Override
            public void onPeriodicNotification(AudioTrack t) {
            }
        });
        track.play();
    }
}
