// Stand-in for executorch-android 1.4.1's Tensor as Java callers see it (see Module.java): the float32 and int64
// members of v1.4.1's Tensor.kt; Kotlin `open val dataAsFloatArray` becomes getDataAsFloatArray(), companion
// @JvmStatic `fromBlob` overloads become statics. The other dtypes' overloads follow the same pattern upstream.
package org.pytorch.executorch;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;

public abstract class Tensor {
    Tensor() {
    }

    public static Tensor fromBlob(float[] data, long[] shape) {
        throw new UnsupportedOperationException("API stub");
    }

    public static Tensor fromBlob(FloatBuffer data, long[] shape) {
        throw new UnsupportedOperationException("API stub");
    }

    public static Tensor fromBlob(long[] data, long[] shape) {
        throw new UnsupportedOperationException("API stub");
    }

    public static Tensor fromBlob(LongBuffer data, long[] shape) {
        throw new UnsupportedOperationException("API stub");
    }

    public static FloatBuffer allocateFloatBuffer(int numElements) {
        throw new UnsupportedOperationException("API stub");
    }

    public static long numel(long[] shape) {
        throw new UnsupportedOperationException("API stub");
    }

    public long numel() {
        throw new UnsupportedOperationException("API stub");
    }

    public long[] shape() {
        throw new UnsupportedOperationException("API stub");
    }

    public float[] getDataAsFloatArray() {
        throw new UnsupportedOperationException("API stub");
    }

    public long[] getDataAsLongArray() {
        throw new UnsupportedOperationException("API stub");
    }

    public void copyDataInto(FloatBuffer dst) {
        throw new UnsupportedOperationException("API stub");
    }
}
