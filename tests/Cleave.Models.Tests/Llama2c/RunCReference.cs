using Cleave.Models.Importers.Llama2c;

namespace Cleave.Models.Tests.Llama2c;

/// <summary>
/// A direct port of llama2.c run.c's forward pass (one token at a time, its own KV cache), used as the independent
/// reference the ONNX graphs are checked against.
/// </summary>
internal sealed class RunCReference
{
    private readonly Llama2cCheckpoint _m;
    private readonly float[] _keyCache, _valueCache; // [layer, seq, kv_dim]

    public RunCReference(Llama2cCheckpoint model)
    {
        _m = model;
        var c = model.Config;
        _keyCache = new float[c.Layers * c.SeqLen * c.KvDim];
        _valueCache = new float[c.Layers * c.SeqLen * c.KvDim];
    }

    public float[] Forward(int token, int pos)
    {
        var c = _m.Config;
        int dim = c.Dim, kvDim = c.KvDim, hs = c.HeadSize, hidden = c.HiddenDim, kvMul = c.QueriesPerKvHead;
        var x = _m.TokenEmbedding.AsSpan(token * dim, dim).ToArray();
        var xb = new float[dim];
        var q = new float[dim];
        var hb = new float[hidden];
        var hb2 = new float[hidden];
        var att = new float[pos + 1];
        for (int l = 0; l < c.Layers; l++)
        {
            RmsNorm(xb, x, _m.RmsAttention.AsSpan(l * dim, dim));
            int loff = l * c.SeqLen * kvDim;
            var k = _keyCache.AsSpan(loff + pos * kvDim, kvDim);
            var v = _valueCache.AsSpan(loff + pos * kvDim, kvDim);
            MatMul(q, xb, _m.Wq.AsSpan(l * dim * dim, dim * dim), dim, dim);
            MatMul(k, xb, _m.Wk.AsSpan(l * dim * kvDim, dim * kvDim), dim, kvDim);
            MatMul(v, xb, _m.Wv.AsSpan(l * dim * kvDim, dim * kvDim), dim, kvDim);
            for (int i = 0; i < dim; i += 2)
            {
                int headDim = i % hs;
                float freq = 1.0f / MathF.Pow(10000.0f, headDim / (float)hs);
                float val = pos * freq, fcr = MathF.Cos(val), fci = MathF.Sin(val);
                int rotn = i < kvDim ? 2 : 1;
                for (int r = 0; r < rotn; r++)
                {
                    var vec = r == 0 ? q.AsSpan() : k;
                    float v0 = vec[i], v1 = vec[i + 1];
                    vec[i] = v0 * fcr - v1 * fci;
                    vec[i + 1] = v0 * fci + v1 * fcr;
                }
            }
            Array.Clear(xb);
            for (int h = 0; h < c.Heads; h++)
            {
                for (int t = 0; t <= pos; t++)
                {
                    float score = 0;
                    for (int i = 0; i < hs; i++) score += q[h * hs + i] * _keyCache[loff + t * kvDim + h / kvMul * hs + i];
                    att[t] = score / MathF.Sqrt(hs);
                }
                Softmax(att.AsSpan(0, pos + 1));
                for (int t = 0; t <= pos; t++)
                    for (int i = 0; i < hs; i++) xb[h * hs + i] += att[t] * _valueCache[loff + t * kvDim + h / kvMul * hs + i];
            }
            var xb2 = new float[dim];
            MatMul(xb2, xb, _m.Wo.AsSpan(l * dim * dim, dim * dim), dim, dim);
            for (int i = 0; i < dim; i++) x[i] += xb2[i];
            RmsNorm(xb, x, _m.RmsFfn.AsSpan(l * dim, dim));
            MatMul(hb, xb, _m.W1.AsSpan(l * dim * hidden, dim * hidden), dim, hidden);
            MatMul(hb2, xb, _m.W3.AsSpan(l * dim * hidden, dim * hidden), dim, hidden);
            for (int i = 0; i < hidden; i++) hb[i] = hb[i] * (1f / (1f + MathF.Exp(-hb[i]))) * hb2[i];
            MatMul(xb, hb, _m.W2.AsSpan(l * dim * hidden, dim * hidden), hidden, dim);
            for (int i = 0; i < dim; i++) x[i] += xb[i];
        }
        RmsNorm(x, x, _m.RmsFinal);
        var logits = new float[c.VocabSize];
        MatMul(logits, x, _m.Classifier, dim, c.VocabSize);
        return logits;
    }

    private static void RmsNorm(Span<float> o, ReadOnlySpan<float> x, ReadOnlySpan<float> w)
    {
        float ss = 0;
        for (int j = 0; j < x.Length; j++) ss += x[j] * x[j];
        ss = 1f / MathF.Sqrt(ss / x.Length + 1e-5f);
        for (int j = 0; j < x.Length; j++) o[j] = w[j] * (ss * x[j]);
    }

    private static void Softmax(Span<float> x)
    {
        float max = float.NegativeInfinity;
        foreach (float f in x) max = MathF.Max(max, f);
        float sum = 0;
        for (int i = 0; i < x.Length; i++) { x[i] = MathF.Exp(x[i] - max); sum += x[i]; }
        for (int i = 0; i < x.Length; i++) x[i] /= sum;
    }

    /// <summary>run.c's matmul: W (d, n) @ x (n,) -> xout (d,).</summary>
    private static void MatMul(Span<float> xout, ReadOnlySpan<float> x, ReadOnlySpan<float> w, int n, int d)
    {
        for (int i = 0; i < d; i++)
        {
            float val = 0;
            for (int j = 0; j < n; j++) val += w[i * n + j] * x[j];
            xout[i] = val;
        }
    }
}
