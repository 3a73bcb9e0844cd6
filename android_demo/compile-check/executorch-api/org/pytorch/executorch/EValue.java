// Stand-in for executorch-android 1.4.1's EValue as Java callers see it (see Module.java): public members of
// v1.4.1's EValue.kt; Kotlin `val isTensor` etc. become isTensor() getters, companion @JvmStatic `from` statics.
package org.pytorch.executorch;

public class EValue {
    private EValue() {
    }

    public static EValue optionalNone() {
        throw new UnsupportedOperationException("API stub");
    }

    public static EValue from(Tensor tensor) {
        throw new UnsupportedOperationException("API stub");
    }

    public static EValue from(boolean value) {
        throw new UnsupportedOperationException("API stub");
    }

    public static EValue from(long value) {
        throw new UnsupportedOperationException("API stub");
    }

    public static EValue from(double value) {
        throw new UnsupportedOperationException("API stub");
    }

    public static EValue from(String value) {
        throw new UnsupportedOperationException("API stub");
    }

    public boolean isNone() {
        throw new UnsupportedOperationException("API stub");
    }

    public boolean isTensor() {
        throw new UnsupportedOperationException("API stub");
    }

    public Tensor toTensor() {
        throw new UnsupportedOperationException("API stub");
    }

    public boolean toBool() {
        throw new UnsupportedOperationException("API stub");
    }

    public long toInt() {
        throw new UnsupportedOperationException("API stub");
    }

    public double toDouble() {
        throw new UnsupportedOperationException("API stub");
    }

    public String toStr() {
        throw new UnsupportedOperationException("API stub");
    }
}
