package org.fitedge.core;

/**
 * A bundle problem a person can fix: a missing or mismatched file, a manifest of another schema, an
 * artifact this build cannot run. The message says what is wrong and, where possible, what to do.
 */
public class BundleException extends Exception {
    public BundleException(String message) {
        super(message);
    }

    public BundleException(String message, Throwable cause) {
        super(message, cause);
    }
}
