package org.fitedge.core;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes small but complete bundle folders for the tests: a manifest, golden .bin/.npy files, one artifact. */
final class TestBundles {
    static final float[] INPUT = {0.5f, -0.25f, 0.125f, 0f, 1f, -1f, 0.75f, -0.5f};
    static final float[] OUTPUT = {1f, 2f, 3f, 4f, 5f, 6f};
    static final byte[] ARTIFACT = "not really a model, only bytes to hash".getBytes(StandardCharsets.US_ASCII);

    private TestBundles() {
    }

    /** A fixed-length bundle in {@code dir} whose hashes all match. */
    static Path write(Path dir) throws IOException {
        Files.createDirectories(dir.resolve("golden"));
        byte[] in = littleEndian(INPUT);
        byte[] out = littleEndian(OUTPUT);
        Files.write(dir.resolve("golden/input.bin"), in);
        Files.write(dir.resolve("golden/input.npy"), npy(INPUT, "(1, 8)"));
        Files.write(dir.resolve("golden/last_hidden_state.bin"), out);
        Files.write(dir.resolve("golden/last_hidden_state.npy"), npy(OUTPUT, "(1, 3, 2)"));
        Files.write(dir.resolve("tiny_fp32.pte"), ARTIFACT);
        Files.write(dir.resolve(Manifest.FILE_NAME), manifestJson(Sha256.ofBytes(in), Sha256.ofBytes(out),
                Sha256.ofBytes(ARTIFACT), "true").getBytes(StandardCharsets.UTF_8));
        return dir;
    }

    /** A complete fitedge.bundle v1 manifest (every key the exporter writes), valid against the repo's schema. */
    static String manifestJson(String inSha, String outSha, String artifactSha, String isStatic) {
        return "{\"schema\": \"fitedge.bundle\", \"schema_version\": 1, \"fitedge_version\": \"0.1.0\","
                + " \"created\": \"2026-11-30T07:16:09+00:00\","
                + " \"model\": {\"name\": \"tiny\", \"source\": \"preset:tiny\", \"trained\": false, \"seed\": 0,"
                + " \"config\": {}, \"weights_sha256\": \"" + "0".repeat(64) + "\", \"parameters\": 1000},"
                + " \"audio\": {\"sample_rate\": 16000, \"input_samples\": 8, \"dynamic\": " + !isStatic.equals("true")
                + ", \"min_samples\": 4, \"max_samples\": 12, \"length_grid\": "
                + (isStatic.equals("true") ? "null" : "{\"multiple\": 2, \"offset\": 0}")
                + ", \"normalization\": \"none\","
                + " \"dtype\": \"float32\", \"input_name\": \"wav\", \"input_shape\": [1, 8]},"
                + " \"outputs\": [{\"name\": \"last_hidden_state\", \"shape\": [1, 3, 2], \"layer\": 2,"
                + " \"frame_hop_ms\": 20.0}],"
                + " \"time_reduction_factor\": 1,"
                + " \"thresholds\": {\"fp32\": {\"min_cosine\": 0.99999, \"max_abs_diff\": 0.001},"
                + " \"int8\": {\"min_cosine\": 0.98}},"
                + " \"golden\": {\"input\": {\"npy\": \"golden/input.npy\", \"bin\": \"golden/input.bin\","
                + " \"shape\": [1, 8], \"sha256\": \"" + inSha + "\"}, \"outputs\": {\"last_hidden_state\":"
                + " {\"npy\": \"golden/last_hidden_state.npy\", \"bin\": \"golden/last_hidden_state.bin\","
                + " \"shape\": [1, 3, 2], \"sha256\": \"" + outSha + "\"}}},"
                + " \"calibration\": null, \"timing\": {\"threads\": 2, \"runs\": 1},"
                // artifacts last: ManifestReaderTest empties them with a regex that runs to the last ']'
                + " \"artifacts\": [{\"file\": \"tiny_fp32.pte\", \"runtime\": \"executorch\","
                + " \"runtime_version\": \"1.4.1\", \"precision\": \"fp32\","
                + " \"recipe\": \"xnnpack-fp32-delegable-norms\","
                + " \"keep_float\": [], \"static\": " + isStatic + ", \"bytes\": " + ARTIFACT.length + ","
                + " \"sha256\": \"" + artifactSha + "\", \"parity\": {\"cosine\": 1.0, \"max_abs_diff\": 1e-06,"
                + " \"snr_db\": 120.0, \"against\": \"fp32 eager\", \"audio\": \"golden\"}, \"latency_ms\": 1.5}]}";
    }

    static byte[] littleEndian(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    /** A version 1 .npy file as numpy.save writes it (header padded with spaces to a multiple of 64). */
    static byte[] npy(float[] values, String shape) {
        StringBuilder header = new StringBuilder("{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }");
        while ((10 + header.length() + 1) % 64 != 0) {
            header.append(' ');
        }
        header.append('\n');
        byte[] data = littleEndian(values);
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        b.putShort((short) header.length());
        b.put(header.toString().getBytes(StandardCharsets.ISO_8859_1));
        b.put(data);
        return b.array();
    }
}
