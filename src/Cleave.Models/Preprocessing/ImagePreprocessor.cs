namespace Cleave.Models.Preprocessing;

/// <summary>
/// Applies a <see cref="PreprocessingSpec"/>: central crop, bilinear resize (half-pixel centres, no antialiasing, as
/// TensorFlow's <c>tf.image.resize</c>), per-channel normalisation, NCHW or NHWC float output.
/// </summary>
public static class ImagePreprocessor
{
    /// <summary>Number of floats one image occupies in the model input.</summary>
    public static int ElementCount(PreprocessingSpec spec) => spec.Width * spec.Height * spec.Channels;

    public static float[] Process(RgbImage image, PreprocessingSpec spec)
    {
        var output = new float[ElementCount(spec)];
        Process(image, spec, output);
        return output;
    }

    /// <summary>Writes one image's tensor into <paramref name="destination"/> (one batch slot).</summary>
    public static void Process(RgbImage image, PreprocessingSpec spec, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(spec);
        int channels = spec.Channels;
        if (channels is not (1 or 3)) throw new ArgumentException($"preprocessing for {channels} channels is not supported");
        if (destination.Length < ElementCount(spec))
            throw new ArgumentException($"destination holds {destination.Length} floats, the image needs {ElementCount(spec)}");

        // Same arithmetic as tf.image.central_crop: an equal whole number of rows/columns off each side.
        int top = (int)((image.Height - image.Height * spec.CropFraction) / 2);
        int left = (int)((image.Width - image.Width * spec.CropFraction) / 2);
        int cropHeight = image.Height - 2 * top, cropWidth = image.Width - 2 * left;

        int outW = spec.Width, outH = spec.Height, plane = outW * outH;
        bool nchw = spec.Layout == "NCHW", bgr = spec.ColorOrder == "BGR";
        double scaleY = (double)cropHeight / outH, scaleX = (double)cropWidth / outW;
        byte[] px = image.Pixels;
        int stride = image.Width * 3;

        // Horizontal sample positions are the same for every row: compute them once.
        var x0 = new int[outW];
        var x1 = new int[outW];
        var fx = new float[outW];
        for (int x = 0; x < outW; x++)
        {
            double sx = Math.Max((x + 0.5) * scaleX - 0.5, 0);
            int ix = Math.Min((int)sx, cropWidth - 1);
            x0[x] = (left + ix) * 3;
            x1[x] = (left + Math.Min(ix + 1, cropWidth - 1)) * 3;
            fx[x] = (float)(sx - ix);
        }

        Span<float> pixel = stackalloc float[3];
        for (int y = 0; y < outH; y++)
        {
            double sy = Math.Max((y + 0.5) * scaleY - 0.5, 0);
            int iy = Math.Min((int)sy, cropHeight - 1);
            int row0 = (top + iy) * stride, row1 = (top + Math.Min(iy + 1, cropHeight - 1)) * stride;
            float fy = (float)(sy - iy);
            for (int x = 0; x < outW; x++)
            {
                float wx = fx[x];
                for (int c = 0; c < 3; c++)
                {
                    float a = px[row0 + x0[x] + c], b = px[row0 + x1[x] + c];
                    float d = px[row1 + x0[x] + c], e = px[row1 + x1[x] + c];
                    float upper = a + (b - a) * wx, lower = d + (e - d) * wx;
                    pixel[c] = upper + (lower - upper) * fy;
                }
                if (bgr) (pixel[0], pixel[2]) = (pixel[2], pixel[0]);
                int at = y * outW + x;
                if (channels == 1)
                {
                    float grey = 0.299f * pixel[0] + 0.587f * pixel[1] + 0.114f * pixel[2];
                    destination[at] = (grey - spec.Mean[0]) * spec.Scale[0];
                }
                else if (nchw)
                {
                    for (int c = 0; c < 3; c++) destination[c * plane + at] = (pixel[c] - spec.Mean[c]) * spec.Scale[c];
                }
                else
                {
                    for (int c = 0; c < 3; c++) destination[at * 3 + c] = (pixel[c] - spec.Mean[c]) * spec.Scale[c];
                }
            }
        }
    }
}
