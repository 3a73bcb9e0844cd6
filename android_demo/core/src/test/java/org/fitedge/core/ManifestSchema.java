package org.fitedge.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/**
 * Validates manifests against the repository's {@code edge/bundle/manifest.schema.json}, the file Python validates
 * with too: the contract is one file, read in place (never copied). Test-only: the app parses manifests with gson
 * alone; the validator and Jackson are on the test classpath (run_tests.sh fetches them, Gradle's testImplementation).
 *
 * <p>Also a command for the Python tests: {@code java -cp TEST_CLASSPATH org.fitedge.core.ManifestSchema
 * manifest.json...} prints {@code OK path} or {@code INVALID path: $.where: what} per file; exit status 1 if any is
 * invalid.
 */
final class ManifestSchema {
    /** Set by run_tests.sh; otherwise found by walking up from the working directory (Gradle runs in core/). */
    static final String PROPERTY = "fitedge.manifest.schema";
    static final String RELATIVE = "edge/bundle/manifest.schema.json";

    private static JsonSchema schema;

    private ManifestSchema() {
    }

    static Path schemaPath() {
        String given = System.getProperty(PROPERTY);
        if (given != null) {
            return Paths.get(given);
        }
        for (Path dir = Paths.get("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve(RELATIVE))) {
                return dir.resolve(RELATIVE);
            }
        }
        throw new IllegalStateException(RELATIVE + " not found above " + Paths.get("").toAbsolutePath()
                + "; pass -D" + PROPERTY + "=PATH");
    }

    static synchronized JsonSchema schema() throws IOException {
        if (schema == null) {
            try (InputStream in = Files.newInputStream(schemaPath())) {
                schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(in);
            }
        }
        return schema;
    }

    /** Every violation of {@code json} as {@code $.json.path: message}, sorted by path; empty when valid. */
    static List<String> problems(String json) throws IOException {
        JsonNode doc = new ObjectMapper().readTree(json);
        List<String> out = new ArrayList<>();
        for (ValidationMessage m : schema().validate(doc)) {
            out.add(m.getMessage());
        }
        out.sort(null);
        return out;
    }

    public static void main(String[] args) throws IOException {
        boolean allValid = true;
        for (String file : args) {
            List<String> found = problems(Files.readString(Paths.get(file)));
            allValid &= found.isEmpty();
            System.out.println(found.isEmpty() ? "OK " + file : "INVALID " + file + ": " + String.join("; ", found));
        }
        System.exit(allValid ? 0 : 1);
    }
}
