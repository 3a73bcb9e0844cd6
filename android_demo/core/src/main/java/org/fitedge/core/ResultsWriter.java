package org.fitedge.core;

import com.google.gson.FieldNamingPolicy;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes {@link BenchResults} as {@code results.json} plus the {@code DONE} marker that the host polls for.
 * The JSON goes to a temporary name first and is renamed, so a reader never sees half a file; DONE is
 * written last, so its presence means the results are complete.
 */
public final class ResultsWriter {
    public static final String RESULTS_FILE = "results.json";
    public static final String DONE_FILE = "DONE";

    // Nulls are written (contract 3 has "error": null), snake_case keys like the rest of fitedge.
    private static final Gson GSON = new GsonBuilder()
            .setFieldNamingPolicy(FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES)
            .serializeNulls()
            .setPrettyPrinting()
            .create();

    private ResultsWriter() {
    }

    public static String toJson(BenchResults results) {
        return GSON.toJson(results);
    }

    /** Writes {@code dir/results.json} then {@code dir/DONE}; clears a stale DONE first. */
    public static Path write(Path dir, BenchResults results) throws IOException {
        Files.createDirectories(dir);
        Files.deleteIfExists(dir.resolve(DONE_FILE));
        Path tmp = dir.resolve(RESULTS_FILE + ".tmp");
        Files.write(tmp, toJson(results).getBytes(StandardCharsets.UTF_8));
        Path out = dir.resolve(RESULTS_FILE);
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.write(dir.resolve(DONE_FILE), new byte[0]);
        return out;
    }
}
