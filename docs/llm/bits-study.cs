// How far can per-token hidden states at a language model's cut be compressed within 2 % perplexity, and by which
// lever? A study, not a codec: bits are ideal order-0 entropies (per-channel histograms of the quantized symbols on
// self-generated calibration text, cross-entropy on the evaluation text), perplexity is teacher-forced through the
// real tail with the quantized states. Used for the figures in docs/llm.md ("Fewer bits per token: what the levers
// are worth"); run with the .NET 10 SDK:
//
//   dotnet run docs/llm/bits-study.cs -- MODEL_DIR TEXT [K=2]
//
// MODEL_DIR: `cleave import stories260K.bin --tokenizer tok512.bin -o DIR --splits`; TEXT: tinystories_sample.txt.
// Levers: (1) channel KLT (coding gain from the covariance eigenvalues), (2) prediction from the previous step (lag-1
// correlation), (3) per-channel sensitivity (KL of the output per unit relative noise, measured by perturbation),
// (4) the scalar baseline (uniform step c x std per channel, no clipping), (5) prediction from a chosen earlier
// decoded row of the same session (closed loop; the index costs log2(rows) + 1 bits), (6) prediction from a codebook
// of per-token means (8192 self-generated calibration tokens) with the token known to the decoder (side information).
#:project ../../src/Cleave.Runtime/Cleave.Runtime.csproj
#:property RuntimeIdentifier=linux-x64
#:property SelfContained=false
#:property PublishAot=false
#:property JsonSerializerIsReflectionEnabledByDefault=true
#:property TreatWarningsAsErrors=false
#:property NoWarn=$(NoWarn);CA1050;CA1305;CA1307;CA1310;CA1515;CA1852;CA2007;IDE0005
using System.Globalization;
using Cleave.Models.Importers.Llama2c;
using Cleave.Models.Text;
using Cleave.Runtime.Generation;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var model = LlamaModelFolder.Open(args[0]);
int k = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 2;
var calibrationTokens = SelfGenerated(model, 8192);
using var head = new KvCacheSession(Path.Combine(model.Directory, Llama2cExport.HeadFile(k)));
using var tail = new KvCacheSession(Path.Combine(model.Directory, Llama2cExport.TailFile(k)));
int d = head.OutputWidth, vocab = model.Config.VocabSize;
var calibration = calibrationTokens.Select(s => { head.Reset(); return head.Run(s); }).ToList();
var documents = TextDocuments.Split(File.ReadAllText(args[1])).Select(doc => model.Tokenizer.Encode(doc, bos: true)).ToList();
var hidden = documents.Select(t => { head.Reset(); return head.Run(t); }).ToList();
int rows = calibration.Sum(h => h.Length) / d;

var mean = new double[d];
var std = new double[d];
foreach (var h in calibration) for (int i = 0; i < h.Length; i++) mean[i % d] += h[i] / (double)rows;
foreach (var h in calibration) for (int i = 0; i < h.Length; i++) std[i % d] += Math.Pow(h[i] - mean[i % d], 2) / rows;
for (int j = 0; j < d; j++) std[j] = Math.Sqrt(std[j]);
Console.WriteLine($"k = {k}, d = {d}: {rows} calibration rows, {documents.Count} documents, {hidden.Sum(h => h.Length) / d} tokens");

// (1) KLT
var covariance = new double[d, d];
foreach (var h in calibration)
    for (int r = 0; r < h.Length / d; r++)
        for (int a = 0; a < d; a++)
            for (int b = 0; b < d; b++) covariance[a, b] += (h[r * d + a] - mean[a]) * (h[r * d + b] - mean[b]) / rows;
var eigen = JacobiEigenvalues(covariance, d);
double gmEigen = Math.Exp(eigen.Average(e => Math.Log(Math.Max(e, 1e-12))));
double gmVariance = Math.Exp(std.Average(s => Math.Log(s * s)));
Console.WriteLine($"(1) KLT over per-channel scalar coding: {10 * Math.Log10(gmVariance / gmEigen):0.00} dB = {0.5 * Math.Log2(gmVariance / gmEigen) * d:0.0} bits/token at high rate; " +
    $"the transform itself is {d}x{d} values ({d * d * 2} bytes in binary16) of session state");

// (2) lag-1 correlation
double num = 0, den = 0;
foreach (var h in hidden)
    for (int t = 1; t < h.Length / d; t++)
        for (int j = 0; j < d; j++)
        {
            double a = (h[t * d + j] - mean[j]) / std[j], b = (h[(t - 1) * d + j] - mean[j]) / std[j];
            num += a * b;
            den += b * b;
        }
double rho = num / den;
Console.WriteLine($"(2) lag-1 correlation (all channels, normalized): {rho:0.000}: prediction from the previous step gains {-10 * Math.Log10(1 - rho * rho):0.00} dB");

var clean = hidden.Select(h => { tail.Reset(); return tail.Run(h); }).ToList();
double baseNll = Nll(hidden);
Console.WriteLine($"reference perplexity {Math.Exp(baseNll):0.0000}");

// (3) sensitivity by perturbation
var sensitivity = new double[d];
for (int j = 0; j < d; j++)
{
    var random = new Random(j);
    double s = 0.3 * std[j];
    var noisy = hidden.Select(h => { var c = (float[])h.Clone(); for (int i = j; i < c.Length; i += d) c[i] += (float)(s * Gauss(random)); return c; }).ToList();
    sensitivity[j] = MeanKl(noisy) / (0.3 * 0.3);
}
double amS = sensitivity.Average(), gmS = Math.Exp(sensitivity.Average(Math.Log));
Console.WriteLine($"(3) KL per unit relative noise: min {sensitivity.Min():0.0000} max {sensitivity.Max():0.0000}; weighting by it gains at most {10 * Math.Log10(amS / gmS):0.00} dB");

// (4) scalar baseline, (5) earlier-row prediction, (6) token codebook with side information
foreach (double c in new[] { 0.3, 0.45, 0.6, 0.8, 1.0 }) Report("(4) scalar", c, Scalar(c));
foreach (double c in new[] { 0.45, 0.6, 0.8 }) Report("(5) earlier row, beta 0.75", c, EarlierRow(c, 0.75));
foreach (double c in new[] { 0.8, 1.0, 1.15, 1.3 }) Report("(6) token codebook", c, TokenCodebook(c));
return;

void Report(string lever, double c, (double Bits, List<float[]> Decoded) result)
{
    double nll = Nll(result.Decoded);
    Console.WriteLine($"{lever} c = {c}: {result.Bits:0.0} bits/token, perplexity {Math.Exp(nll):0.0000} ({100 * (Math.Exp(nll - baseNll) - 1):+0.00;-0.00} %)");
}

(double, List<float[]>) Scalar(double c) => Quantize(c, std, (_, _, _) => null);

(double, List<float[]>) TokenCodebook(double c)
{
    var sum = new double[vocab, d];
    var count = new int[vocab];
    for (int s = 0; s < calibration.Count; s++)
        for (int t = 0; t < calibrationTokens[s].Length; t++)
        {
            count[calibrationTokens[s][t]]++;
            for (int j = 0; j < d; j++) sum[calibrationTokens[s][t], j] += calibration[s][t * d + j];
        }
    var residualStd = new double[d];
    for (int s = 0; s < calibration.Count; s++)
        for (int t = 0; t < calibrationTokens[s].Length; t++)
            for (int j = 0; j < d; j++)
            {
                int token = calibrationTokens[s][t];
                residualStd[j] += Math.Pow(calibration[s][t * d + j] - sum[token, j] / count[token], 2) / rows;
            }
    for (int j = 0; j < d; j++) residualStd[j] = Math.Sqrt(residualStd[j]);
    return Quantize(c, residualStd, (tokens, t, _) =>
    {
        int token = tokens[t];
        var p = new double[d];
        for (int j = 0; j < d; j++) p[j] = count[token] > 0 ? sum[token, j] / count[token] : mean[j];
        return (p, 0);
    });
}

(double, List<float[]>) EarlierRow(double c, double beta) => Quantize(c, std, (_, _, _) => null, beta);

// Quantizes every row against a prediction (null: the calibration mean), closed loop over the decoded rows. The
// symbol tables come from the calibration rows coded the same way. With beta > 0 the prediction is the best earlier
// decoded row of the session (at most 255 back), shrunk towards the mean by beta, chosen by normalized energy.
(double, List<float[]>) Quantize(double c, double[] scale, Func<int[], int, float[], (double[] P, double Bits)?> predict, double beta = 0)
{
    var step = scale.Select(s => c * s).ToArray();
    var tables = Enumerable.Range(0, d).Select(_ => new Dictionary<long, int>()).ToArray();
    double bits = 0;
    Run(calibrationTokens, calibration, tables, null);
    var decoded = Run(documents, hidden, null, tables);
    return (bits / (hidden.Sum(h => h.Length) / d), decoded);

    List<float[]> Run(List<int[]> tokenLists, List<float[]> rowsOf, Dictionary<long, int>[]? collect, Dictionary<long, int>[]? code)
    {
        var output = new List<float[]>();
        for (int s = 0; s < rowsOf.Count; s++)
        {
            var h = rowsOf[s];
            var dec = new float[h.Length];
            for (int t = 0; t < h.Length / d; t++)
            {
                var p = mean.ToArray();
                double sideBits = 0;
                if (beta > 0)
                {
                    double best = Energy(h, t, p, double.MaxValue);
                    sideBits = 1;
                    for (int r = Math.Max(0, t - 255); r < t; r++)
                    {
                        var candidate = new double[d];
                        for (int j = 0; j < d; j++) candidate[j] = mean[j] + beta * (dec[r * d + j] - mean[j]);
                        double e = Energy(h, t, candidate, best);
                        if (e < best)
                        {
                            best = e;
                            p = candidate;
                            sideBits = 1 + Math.Log2(Math.Min(t, 255));
                        }
                    }
                }
                else if (predict(tokenLists[s], t, dec) is { } given) (p, sideBits) = given;
                if (code is not null) bits += sideBits;
                for (int j = 0; j < d; j++)
                {
                    long q = (long)Math.Round((h[t * d + j] - p[j]) / step[j]);
                    dec[t * d + j] = (float)(p[j] + q * step[j]);
                    if (collect is not null) collect[j][q] = collect[j].GetValueOrDefault(q) + 1;
                    if (code is not null) bits -= Math.Log2((code[j].GetValueOrDefault(q) + 0.5) / (rows + 0.5 * (code[j].Count + 1)));
                }
            }
            output.Add(dec);
        }
        return output;
    }
}

double Energy(float[] h, int t, double[] p, double limit)
{
    double e = 0;
    for (int j = 0; j < d && e < limit; j++) e += Math.Pow((h[t * d + j] - p[j]) / std[j], 2);
    return e;
}

double Nll(List<float[]> states)
{
    double nll = 0;
    int n = 0;
    for (int i = 0; i < states.Count; i++)
    {
        tail.Reset();
        var logits = tail.Run(states[i]);
        for (int t = 0; t + 1 < documents[i].Length; t++)
        {
            nll += TextScore.Of(logits.AsSpan(t * vocab, vocab), documents[i][t + 1]).TotalNll;
            n++;
        }
    }
    return nll / n;
}

double MeanKl(List<float[]> states)
{
    double kl = 0;
    int n = 0;
    for (int i = 0; i < states.Count; i++)
    {
        tail.Reset();
        var logits = tail.Run(states[i]);
        for (int t = 0; t < documents[i].Length; t++, n++) kl += Kl(clean[i].AsSpan(t * vocab, vocab), logits.AsSpan(t * vocab, vocab));
    }
    return kl / n;
}

static double Kl(ReadOnlySpan<float> p, ReadOnlySpan<float> q)
{
    double mp = double.MinValue, mq = double.MinValue, zp = 0, zq = 0, kl = 0;
    foreach (float v in p) mp = Math.Max(mp, v);
    foreach (float v in q) mq = Math.Max(mq, v);
    for (int i = 0; i < p.Length; i++) { zp += Math.Exp(p[i] - mp); zq += Math.Exp(q[i] - mq); }
    for (int i = 0; i < p.Length; i++)
    {
        double lp = p[i] - mp - Math.Log(zp), lq = q[i] - mq - Math.Log(zq);
        kl += Math.Exp(lp) * (lp - lq);
    }
    return kl;
}

static double Gauss(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

static double[] JacobiEigenvalues(double[,] matrix, int n)
{
    var a = (double[,])matrix.Clone();
    for (int sweep = 0; sweep < 100; sweep++)
    {
        double off = 0;
        for (int p = 0; p < n; p++) for (int q = p + 1; q < n; q++) off += a[p, q] * a[p, q];
        if (off < 1e-20) break;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++)
            {
                if (Math.Abs(a[p, q]) < 1e-30) continue;
                double theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                double t = theta == 0 ? 1 : Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                for (int r = 0; r < n; r++) { double arp = a[r, p], arq = a[r, q]; a[r, p] = c * arp - s * arq; a[r, q] = s * arp + c * arq; }
                for (int r = 0; r < n; r++) { double apr = a[p, r], aqr = a[q, r]; a[p, r] = c * apr - s * aqr; a[q, r] = s * apr + c * aqr; }
            }
    }
    var e = new double[n];
    for (int i = 0; i < n; i++) e[i] = a[i, i];
    return e;
}

static List<int[]> SelfGenerated(LlamaModelFolder model, int tokens)
{
    var sequences = new List<int[]>();
    using var full = model.CreateSession();
    for (int story = 0, total = 0; total < tokens; story++)
    {
        var sampling = new SamplingSettings(Temperature: 1, Seed: 7 + (ulong)story * 1_000_003);
        full.Reset();
        var sequence = new List<int> { Llama2cTokenizer.Bos };
        float[] logits = full.Prefill([Llama2cTokenizer.Bos]);
        int limit = Math.Min(model.Config.SeqLen, tokens - total + 1);
        while (sequence.Count < limit)
        {
            int next = TokenSampler.Sample(logits, sampling, full.Position);
            if (next == Llama2cTokenizer.Bos) break;
            sequence.Add(next);
            logits = full.Step(next);
        }
        sequences.Add([.. sequence]);
        total += sequence.Count;
    }
    return sequences;
}
