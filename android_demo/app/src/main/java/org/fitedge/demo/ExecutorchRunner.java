package org.fitedge.demo;

import java.util.ArrayList;
import java.util.List;
import org.fitedge.core.FloatTensor;
import org.fitedge.core.ModelRunner;
import org.pytorch.executorch.EValue;
import org.pytorch.executorch.Module;
import org.pytorch.executorch.Tensor;

/**
 * A {@code .pte} run by ExecuTorch's Java API (executorch-android 1.4.x, marked experimental upstream):
 * {@code Module.load(path, loadMode, numThreads)}, {@code Module.forward(EValue...)},
 * {@code Tensor.fromBlob(float[], long[])}, {@code Tensor.getDataAsFloatArray()}, {@code Tensor.shape()}.
 */
final class ExecutorchRunner implements ModelRunner {
    private final Module module;

    ExecutorchRunner(String path, int threads) throws InferenceException {
        try {
            // mmap: the program stays in the page cache instead of a second heap copy; 0 threads = runtime default.
            module = Module.load(path, Module.LOAD_MODE_MMAP, Math.max(threads, 0));
        } catch (RuntimeException e) {
            throw new InferenceException("ExecuTorch could not load " + path + ": " + e.getMessage(), e);
        }
    }

    @Override
    public List<FloatTensor> run(float[] wav) throws InferenceException {
        EValue[] outputs;
        try {
            outputs = module.forward(EValue.from(Tensor.fromBlob(wav, new long[] {1, wav.length})));
        } catch (RuntimeException e) {
            throw new InferenceException("ExecuTorch forward failed: " + e.getMessage(), e);
        }
        List<FloatTensor> result = new ArrayList<>(outputs.length);
        for (EValue value : outputs) {
            Tensor t = value.toTensor();
            result.add(new FloatTensor(t.getDataAsFloatArray(), t.shape()));
        }
        return result;
    }

    @Override
    public String runtime() {
        return "executorch";
    }

    @Override
    public void close() {
        module.destroy();
    }
}
