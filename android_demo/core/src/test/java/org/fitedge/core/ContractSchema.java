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
 * Validates documents against one of the repository's JSON Schema files, the file Python validates with too: a
 * contract is one file, read in place (never copied). {@link #MANIFEST} is the bundle manifest (contract 2),
 * {@link #DEVICE_RESULTS} the results file {@link ResultsWriter} writes (contract 3). Test-only: the app parses
 * and writes JSON with gson alone; the validator and Jackson are on the test classpath (run_tests.sh fetches
 * them, Gradle's testImplementation).
 *
 * <p>Also a command for the Python tests: {@code java -cp TEST_CLASSPATH org.fitedge.core.ContractSchema
 * manifest|device-results FILE...} prints {@code OK path} or {@code INVALID path: $.where: what} per file; exit
 * status 1 if any is invalid.
 */
final class ContractSchema {
    static final ContractSchema MANIFEST =
            new ContractSchema("fitedge.manifest.schema", "edge/bundle/manifest.schema.json");
    static final ContractSchema DEVICE_RESULTS =
            new ContractSchema("fitedge.device_results.schema", "bench/device/device_results.schema.json");

    /** Set by run_tests.sh; otherwise found by walking up from the working directory (Gradle runs in core/). */
    private final String property;
    private final String relative;
    private JsonSchema schema;

    private ContractSchema(String property, String relative) {
        this.property = property;
        this.relative = relative;
    }

    Path schemaPath() {
        String given = System.getProperty(property);
        if (given != null) {
            return Paths.get(given);
        }
        for (Path dir = Paths.get("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve(relative))) {
                return dir.resolve(relative);
            }
        }
        throw new IllegalStateException(relative + " not found above " + Paths.get("").toAbsolutePath()
                + "; pass -D" + property + "=PATH");
    }

    synchronized JsonSchema schema() throws IOException {
        if (schema == null) {
            try (InputStream in = Files.newInputStream(schemaPath())) {
                schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(in);
            }
        }
        return schema;
    }

    /** Every violation of {@code json} as {@code $.json.path: message}, sorted by path; empty when valid. */
    List<String> problems(String json) throws IOException {
        JsonNode doc = new ObjectMapper().readTree(json);
        List<String> out = new ArrayList<>();
        for (ValidationMessage m : schema().validate(doc)) {
            out.add(m.getMessage());
        }
        out.sort(null);
        return out;
    }

    public static void main(String[] args) throws IOException {
        ContractSchema contract = "device-results".equals(args[0]) ? DEVICE_RESULTS : MANIFEST;
        boolean allValid = true;
        for (int i = 1; i < args.length; i++) {
            List<String> found = contract.problems(Files.readString(Paths.get(args[i])));
            allValid &= found.isEmpty();
            System.out.println(found.isEmpty() ? "OK " + args[i] : "INVALID " + args[i] + ": " + String.join("; ", found));
        }
        System.exit(allValid ? 0 : 1);
    }
}
