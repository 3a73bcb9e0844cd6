package org.fitedge.demo;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.fitedge.core.BundleException;
import org.fitedge.core.FloatTensor;
import org.fitedge.core.InputQuantization;
import org.fitedge.core.ModelRunner;
import org.tensorflow.lite.DataType;
import org.tensorflow.lite.Interpreter;
import org.tensorflow.lite.Tensor;

/**
 * A {@code .tflite} run by LiteRT's Interpreter API (com.google.ai.edge.litert:litert 2.3):
 * {@code Interpreter.Options.setNumThreads}, {@code Interpreter(File, Options)}, {@code resizeInput} +
 * {@code allocateTensors} for dynamic lengths, {@code runForMultipleInputsOutputs}, {@code getOutputTensor}.
 * An artifact exported with {@code --integer-io} takes int8 audio: the manifest's input_quantization says how,
 * and the core's {@link InputQuantization} quantizes exactly as the Python runner does.
 */
final class LitertRunner implements ModelRunner {
    private final Interpreter interpreter;
    private final InputQuantization quantization;
    private int inputSamples;

    LitertRunner(String path, int threads, InputQuantization quantization) throws InferenceException {
        this.quantization = quantization;
        try {
            Interpreter.Options options = new Interpreter.Options();
            if (threads > 0) {
                options.setNumThreads(threads);
            }
            interpreter = new Interpreter(new File(path), options);
        } catch (RuntimeException e) {
            throw new InferenceException("LiteRT could not load " + path + ": " + e.getMessage(), e);
        }
        Tensor input = interpreter.getInputTensor(0);
        boolean integer = input.dataType() == DataType.INT8 || input.dataType() == DataType.UINT8;
        if (input.dataType() != DataType.FLOAT32 && !(integer && quantization != null)) {
            interpreter.close();
            throw new InferenceException(path + " takes " + input.dataType() + " input and the manifest gives no "
                    + "input_quantization for it; re-export it (fitedge bundles take float32 unless --integer-io)",
                    null);
        }
        inputSamples = input.shape()[1];
    }

    @Override
    public List<FloatTensor> run(float[] wav) throws InferenceException {
        try {
            if (wav.length != inputSamples) {
                // Only dynamic-length models accept this; a fixed one throws and the caller sees why.
                interpreter.resizeInput(0, new int[] {1, wav.length});
                interpreter.allocateTensors();
                inputSamples = wav.length;
            }
            ByteBuffer input = encode(wav);
            int count = interpreter.getOutputTensorCount();
            Map<Integer, Object> buffers = new HashMap<>();
            for (int i = 0; i < count; i++) {
                buffers.put(i, ByteBuffer.allocateDirect(interpreter.getOutputTensor(i).numBytes())
                        .order(ByteOrder.nativeOrder()));
            }
            interpreter.runForMultipleInputsOutputs(new Object[] {input}, buffers);
            List<FloatTensor> result = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                result.add(toTensor((ByteBuffer) buffers.get(i), interpreter.getOutputTensor(i).shape()));
            }
            return result;
        } catch (RuntimeException e) {
            throw new InferenceException("LiteRT run failed: " + e.getMessage(), e);
        }
    }

    private ByteBuffer encode(float[] wav) throws InferenceException {
        if (interpreter.getInputTensor(0).dataType() == DataType.FLOAT32) {
            ByteBuffer input = ByteBuffer.allocateDirect(wav.length * Float.BYTES).order(ByteOrder.nativeOrder());
            input.asFloatBuffer().put(wav);
            return input;
        }
        try {
            byte[] q = quantization.quantize(wav);
            ByteBuffer input = ByteBuffer.allocateDirect(q.length).order(ByteOrder.nativeOrder());
            input.put(q);
            input.rewind();
            return input;
        } catch (BundleException e) {
            throw new InferenceException(e.getMessage(), e);
        }
    }

    private static FloatTensor toTensor(ByteBuffer buffer, int[] shape) {
        long[] dims = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            dims[i] = shape[i];
        }
        float[] data = new float[(int) FloatTensor.numel(dims)];
        buffer.rewind();
        buffer.asFloatBuffer().get(data);
        return new FloatTensor(data, dims);
    }

    @Override
    public String runtime() {
        return "litert";
    }

    @Override
    public void close() {
        interpreter.close();
    }
}
