// Stand-in for org.pytorch:executorch-android 1.4.1's Module as Java callers see it (no Maven repository reachable
// here serves that AAR; android_demo/README.md says more). Public members only, as declared by v1.4.1's
// Module.kt: companion `const val`s become static final ints, @JvmStatic @JvmOverloads `load` three statics.
package org.pytorch.executorch;

import java.io.Closeable;

public class Module implements Closeable {
    public static final int LOAD_MODE_FILE = 0;
    public static final int LOAD_MODE_MMAP = 1;
    public static final int LOAD_MODE_MMAP_USE_MLOCK = 2;
    public static final int LOAD_MODE_MMAP_USE_MLOCK_IGNORE_ERRORS = 3;

    private Module() {
    }

    public static Module load(String modelPath) {
        throw new UnsupportedOperationException("API stub");
    }

    public static Module load(String modelPath, int loadMode) {
        throw new UnsupportedOperationException("API stub");
    }

    public static Module load(String modelPath, int loadMode, int numThreads) {
        throw new UnsupportedOperationException("API stub");
    }

    public static String[] readLogBufferStatic() {
        throw new UnsupportedOperationException("API stub");
    }

    public EValue[] forward(EValue... inputs) {
        throw new UnsupportedOperationException("API stub");
    }

    public EValue[] execute(String methodName, EValue... inputs) {
        throw new UnsupportedOperationException("API stub");
    }

    public void loadMethod(String methodName) {
        throw new UnsupportedOperationException("API stub");
    }

    public String[] getMethods() {
        throw new UnsupportedOperationException("API stub");
    }

    public String[] readLogBuffer() {
        throw new UnsupportedOperationException("API stub");
    }

    public boolean etdump() {
        throw new UnsupportedOperationException("API stub");
    }

    public boolean etdump(String outputPath) {
        throw new UnsupportedOperationException("API stub");
    }

    public void destroy() {
        throw new UnsupportedOperationException("API stub");
    }

    @Override
    public void close() {
        throw new UnsupportedOperationException("API stub");
    }
}
