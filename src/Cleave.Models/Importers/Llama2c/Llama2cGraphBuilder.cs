using Cleave.Models.Onnx;
using Onnx;

namespace Cleave.Models.Importers.Llama2c;

/// <summary>
/// Writes a contiguous run of a llama2.c model's layers as one ONNX graph with a KV cache: optionally the token
/// embedding in front, optionally the final RMSNorm and classifier behind. The full model, a split's head and its
/// tail are all this one graph with different bounds, so they cannot drift apart.
/// </summary>
/// <remarks>
/// Three forms (<see cref="Llama2cCacheForm"/>). The growing form (the full model.onnx): every layer derives the token positions
/// from its own past length (the third axis of its past_key input), so the layers after a cut need nothing from before it
/// but the hidden state, and returns present = Concat(past, new). The fixed-capacity form (the split halves that the
/// client and the server run): caches of the model's whole context are inputs and, as the same buffers, outputs, and a
/// <c>position</c> input says how many rows are valid. Its attention is ONNX Runtime's GroupQueryAttention
/// (com.microsoft), which sees past == present, writes the new rows into the cache in place and attends over the valid
/// rows only: nothing but the new rows is copied, and a short sequence does not pay for the whole context. The batched
/// form: single-token steps of many sequences.
/// Attention groups the query heads by key/value head ([1, kv, group, T, head]) and broadcasts the cache over the group
/// instead of repeating it.
/// </remarks>
internal sealed class Llama2cGraphBuilder
{
    public const int OpsetVersion = 18;
    private const string MicrosoftDomain = "com.microsoft";
    public const string InputIds = "input_ids", Logits = "logits";
    private const string Tokens = "T", Past = "P", Total = "P+T";

    private readonly Llama2cCheckpoint _model;
    private readonly Llama2cConfig _c;
    private readonly OnnxGraphBuilder _b = new();
    private string _one = "", _zero = "", _axis0 = "", _axis1 = "", _axisLast = "", _eps = "", _zeroF = "", _minusInfinity = "";
    private string _inverseFrequency = "", _ropeShape = "";
    private string _cos = "", _sin = "", _mask = ""; // of the layer being built (the batched graph: shared by all layers)

    // The leading two axes of every reshape: [1, T] for one sequence, [B, 1] for the batched decode graph.
    private readonly Llama2cCacheForm _form;
    private readonly bool _batched;
    private readonly long _lead, _tokens;
    private string _validRowsMinusOne = "", _validRows = ""; // the fixed-capacity graph's GroupQueryAttention lengths: int32 [1] and scalar

    private Llama2cGraphBuilder(Llama2cCheckpoint model, Llama2cCacheForm form)
    {
        _model = model;
        _c = model.Config;
        _form = form;
        _batched = form == Llama2cCacheForm.Batched;
        (_lead, _tokens) = _batched ? (-1L, 1L) : (1L, -1L);
    }

    public const string Positions = "positions", AttentionMask = "attention_mask", Position = "position";
    private const string Batch = "B", PaddedPast = "Tmax", PaddedTotal = "Tmax+1";

    public static string NewKey(int layer) => $"new_key_{layer}";
    public static string NewValue(int layer) => $"new_value_{layer}";

    public static string LayerOutput(int layer) => $"layer{layer}_out";
    public static string PastKey(int layer) => $"past_key_{layer}";
    public static string PastValue(int layer) => $"past_value_{layer}";
    public static string PresentKey(int layer) => $"present_key_{layer}";
    public static string PresentValue(int layer) => $"present_value_{layer}";

    /// <summary>
    /// Layers [<paramref name="firstLayer"/>, <paramref name="endLayer"/>). With <paramref name="embed"/> the input is
    /// input_ids, else the hidden state layer{first-1}_out; with <paramref name="classify"/> the output is logits, else
    /// layer{end-1}_out.
    /// </summary>
    public static ModelProto Build(Llama2cCheckpoint model, int firstLayer, int endLayer, bool embed, bool classify, string graphName,
        Llama2cCacheForm form = Llama2cCacheForm.Growing)
    {
        var c = model.Config;
        if (firstLayer < 0 || endLayer > c.Layers || firstLayer >= endLayer)
            throw new ArgumentOutOfRangeException(nameof(endLayer), $"layer range [{firstLayer}, {endLayer}) is not inside 0..{c.Layers}");
        if (embed != (firstLayer == 0)) throw new ArgumentException("the embedding belongs in front of layer 0 and only there", nameof(embed));
        if (classify != (endLayer == c.Layers)) throw new ArgumentException("the classifier belongs after the last layer and only there", nameof(classify));
        if (form == Llama2cCacheForm.Batched) throw new ArgumentException("the batched graph is built by BuildBatchedDecode", nameof(form));
        // ONNX Runtime's CPU GroupQueryAttention rejects other head sizes at run time; say so at export instead.
        if (form == Llama2cCacheForm.FixedCapacity && c.HeadSize % 8 != 0)
            throw new ArgumentException($"the fixed-capacity form needs a head size that is a multiple of 8 (GroupQueryAttention), not {c.HeadSize}", nameof(form));
        return new Llama2cGraphBuilder(model, form).BuildGraph(firstLayer, endLayer, embed, classify, graphName);
    }

    /// <summary>
    /// Layers [<paramref name="firstLayer"/>, end) plus the classifier for B sequences' single-token decode steps at
    /// once: layer{first-1}_out [B,1,dim], <c>positions</c> [B] (each row's own position), past caches padded to the
    /// longest row [B, kv_heads, Tmax, head_size] and <c>attention_mask</c> [B, Tmax+1] (0 where a key is valid,
    /// -inf on padding; the last column is the new token) -> logits [B,1,vocab] and each layer's new key/value rows
    /// <c>new_key_{l}</c>/<c>new_value_{l}</c> [B, kv_heads, 1, head_size], which the caller appends to each row's cache.
    /// </summary>
    public static ModelProto BuildBatchedDecode(Llama2cCheckpoint model, int firstLayer, string graphName)
    {
        var c = model.Config;
        if (firstLayer < 1 || firstLayer >= c.Layers)
            throw new ArgumentOutOfRangeException(nameof(firstLayer), $"the batched decode graph starts after a cut: layer 1..{c.Layers - 1}");
        return new Llama2cGraphBuilder(model, Llama2cCacheForm.Batched).BuildGraph(firstLayer, c.Layers, embed: false, classify: true, graphName);
    }

    private ModelProto BuildGraph(int first, int end, bool embed, bool classify, string graphName)
    {
        var g = _b.Graph;
        g.Name = graphName;
        string input = embed ? InputIds : LayerOutput(first - 1);
        _b.UniqueName(input);
        object[] rows = _batched ? [Batch, 1] : [1, Tokens];
        g.Input.Add(embed
            ? ValueInfo(input, OnnxElementType.Int64, rows)
            : ValueInfo(input, OnnxElementType.Float, [.. rows, _c.Dim]));
        if (_batched)
        {
            _b.UniqueName(Positions);
            _b.UniqueName(AttentionMask);
            g.Input.Add(ValueInfo(Positions, OnnxElementType.Int64, [Batch]));
            g.Input.Add(ValueInfo(AttentionMask, OnnxElementType.Float, [Batch, PaddedTotal]));
        }
        bool fixedCapacity = _form == Llama2cCacheForm.FixedCapacity;
        if (fixedCapacity)
        {
            _b.UniqueName(Position);
            g.Input.Add(ValueInfo(Position, OnnxElementType.Int64, [1]));
        }
        for (int l = first; l < end; l++)
            foreach (string name in new[] { PastKey(l), PastValue(l) })
            {
                _b.UniqueName(name);
                object[] dims = _form switch
                {
                    Llama2cCacheForm.Batched => [Batch, _c.KvHeads, PaddedPast, _c.HeadSize],
                    Llama2cCacheForm.FixedCapacity => [1, _c.KvHeads, _c.SeqLen, _c.HeadSize],
                    _ => [1, _c.KvHeads, Past, _c.HeadSize],
                };
                g.Input.Add(ValueInfo(name, OnnxElementType.Float, dims));
            }
        bool newRowsOut = _batched;
        for (int l = first; l < end; l++)
        {
            _b.UniqueName(newRowsOut ? NewKey(l) : PresentKey(l));
            _b.UniqueName(newRowsOut ? NewValue(l) : PresentValue(l));
            _b.UniqueName(LayerOutput(l));
        }
        if (classify) _b.UniqueName(Logits);

        AddConstants();
        if (_batched) AddBatchedPositions();
        if (fixedCapacity) AddFixedCapacityPositions(input);

        string x = embed
            ? _b.Emit("Gather", "embedded", [_b.AddFloats("token_embedding", _model.TokenEmbedding, _c.VocabSize, _c.Dim), input], OnnxGraphBuilder.Int("axis", 0))
            : input;
        for (int l = first; l < end; l++) x = AddLayer(l, x);

        string output = x;
        if (classify)
        {
            string normed = RmsNorm(x, _model.RmsFinal, "final_norm");
            string weight = _b.AddFloats("classifier_t", Transpose(_model.Classifier, 0, _c.VocabSize, _c.Dim), _c.Dim, _c.VocabSize);
            output = _b.AddNode("MatMul", [normed, weight], Logits);
            g.Output.Add(ValueInfo(Logits, OnnxElementType.Float, [.. rows, _c.VocabSize]));
        }
        else
        {
            g.Output.Add(ValueInfo(output, OnnxElementType.Float, [.. rows, _c.Dim]));
        }
        for (int l = first; l < end; l++)
            if (_batched)
            {
                g.Output.Add(ValueInfo(NewKey(l), OnnxElementType.Float, [Batch, _c.KvHeads, 1, _c.HeadSize]));
                g.Output.Add(ValueInfo(NewValue(l), OnnxElementType.Float, [Batch, _c.KvHeads, 1, _c.HeadSize]));
            }
            else if (fixedCapacity)
            {
                // The caches themselves: bound to the same buffers as past_key/past_value, written in place.
                g.Output.Add(ValueInfo(PresentKey(l), OnnxElementType.Float, [1, _c.KvHeads, _c.SeqLen, _c.HeadSize]));
                g.Output.Add(ValueInfo(PresentValue(l), OnnxElementType.Float, [1, _c.KvHeads, _c.SeqLen, _c.HeadSize]));
            }
            else
            {
                g.Output.Add(ValueInfo(PresentKey(l), OnnxElementType.Float, [1, _c.KvHeads, Total, _c.HeadSize]));
                g.Output.Add(ValueInfo(PresentValue(l), OnnxElementType.Float, [1, _c.KvHeads, Total, _c.HeadSize]));
            }

        var onnx = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "cleave",
            ProducerVersion = typeof(Llama2cGraphBuilder).Assembly.GetName().Version?.ToString() ?? "0",
            Graph = g,
            DocString = "llama2.c checkpoint imported by Cleave: RMSNorm, RoPE, grouped-query attention with KV cache, SwiGLU.",
        };
        onnx.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OpsetVersion });
        if (fixedCapacity) onnx.OpsetImport.Add(new OperatorSetIdProto { Domain = MicrosoftDomain, Version = 1 });
        return onnx;
    }

    /// <summary>Initializers every layer shares (shared initializers cost nothing when a graph is cut).</summary>
    private void AddConstants()
    {
        if (!_batched) // positions are derived inside; the batched graph takes them as an input
        {
            _one = _b.AddInt64s("one", [1L]);
            _axis0 = _b.AddInt64Vector("axis0", 0);
        }
        if (_form == Llama2cCacheForm.Growing) // the causal mask too (the fixed-capacity graph's attention operator masks by itself)
        {
            _zero = _b.AddInt64s("zero", [0L]);
            _zeroF = _b.AddFloats("zero_f", [0f]);
            _minusInfinity = _b.AddFloats("minus_infinity", [float.NegativeInfinity]);
        }
        _axis1 = _b.AddInt64Vector("axis1", 1);
        _axisLast = _b.AddInt64Vector("axis_last", -1);
        _eps = _b.AddFloats("rms_eps", [Llama2cConfig.RmsNormEpsilon]);

        // run.c: freq = 1 / 10000^(2i / head_size) for pair i, angle = pos * freq in float32.
        int half = _c.HeadSize / 2;
        var inverseFrequency = new float[half];
        for (int i = 0; i < half; i++) inverseFrequency[i] = 1.0f / MathF.Pow(Llama2cConfig.RopeTheta, 2 * i / (float)_c.HeadSize);
        _inverseFrequency = _b.AddFloats("rope_inverse_frequency", inverseFrequency, half);
        _ropeShape = _batched ? _b.AddInt64Vector("rope_shape", -1, 1, 1, half, 1) : _b.AddInt64Vector("rope_shape", -1, 1, half, 1);
    }

    /// <summary>
    /// The batched graph's RoPE cos/sin [B, 1, 1, head/2, 1] from each row's own position (the same float32 angles as
    /// <see cref="AddPositions"/>), and its mask [B, 1, 1, 1, Tmax+1] broadcast over heads, groups and the one query.
    /// </summary>
    private void AddBatchedPositions()
    {
        string positionColumn = _b.Emit("Unsqueeze", "position_column",
            [_b.Emit("Cast", "positions_float", [Positions], OnnxGraphBuilder.Int("to", OnnxElementType.Float)), _axis1]);
        string angles = _b.Emit("Mul", "rope_angles", [positionColumn, _inverseFrequency]);
        _cos = _b.Emit("Reshape", "rope_cos", [_b.Emit("Cos", "rope_cos_flat", [angles]), _ropeShape]);
        _sin = _b.Emit("Reshape", "rope_sin", [_b.Emit("Sin", "rope_sin_flat", [angles]), _ropeShape]);
        _mask = _b.Emit("Unsqueeze", "attention_mask_5d", [AttentionMask, _b.AddInt64Vector("mask_axes", 1, 2, 3)]);
    }

    /// <summary>
    /// The fixed-capacity graph's positions P..P+T-1 (P = the <c>position</c> input, T = tokens in the input), shared by
    /// all its layers: RoPE cos/sin as <see cref="AddPositions"/> makes them, and GroupQueryAttention's lengths (its
    /// seqlens_k = P + T - 1 as int32 [1], its total_sequence_length = P + T as an int32 scalar). Rows at and after P + T
    /// hold nothing yet or rows of an earlier sequence; the operator never reads them.
    /// </summary>
    private void AddFixedCapacityPositions(string input)
    {
        string start = _b.Emit("Squeeze", "position_scalar", [Position]);
        string tokenCount = _b.Emit("Squeeze", "token_count_scalar",
            [_b.Emit("Shape", "token_count", [input], OnnxGraphBuilder.Int("start", 1), OnnxGraphBuilder.Int("end", 2))]);
        string total = _b.Emit("Add", "end_position", [start, tokenCount]);
        string positions = _b.Emit("Range", "positions", [start, total, _one]);
        string positionColumn = _b.Emit("Unsqueeze", "position_column",
            [_b.Emit("Cast", "positions_float", [positions], OnnxGraphBuilder.Int("to", OnnxElementType.Float)), _axis1]);
        string angles = _b.Emit("Mul", "rope_angles", [positionColumn, _inverseFrequency]);
        _cos = _b.Emit("Reshape", "rope_cos", [_b.Emit("Cos", "rope_cos_flat", [angles]), _ropeShape]);
        _sin = _b.Emit("Reshape", "rope_sin", [_b.Emit("Sin", "rope_sin_flat", [angles]), _ropeShape]);

        var toInt32 = OnnxGraphBuilder.Int("to", OnnxElementType.Int32);
        _validRows = _b.Emit("Cast", "total_sequence_length", [total], toInt32);
        _validRowsMinusOne = _b.Emit("Cast", "seqlens_k", [_b.Emit("Unsqueeze", "last_row", [_b.Emit("Sub", "last_row_scalar", [total, _one]), _axis0])], toInt32);
    }

    /// <summary>
    /// Positions P..P+T-1 (P = this layer's past length, T = tokens in its input), RoPE cos/sin as [T, 1, head/2, 1]
    /// and the causal mask [T, P+T]. Every layer derives its own from its own inputs, a few tiny ops, so that the
    /// layers after any residual-stream tensor depend on nothing before it but that tensor: each layer{l}_out is a
    /// single-tensor cut of the full graph, not only of the hand-made halves.
    /// </summary>
    private void AddPositions(string hidden, string past, string p)
    {
        string pastLength = _b.Emit("Shape", p + "past_length", [past], OnnxGraphBuilder.Int("start", 2), OnnxGraphBuilder.Int("end", 3));
        string tokenCount = _b.Emit("Shape", p + "token_count", [hidden], OnnxGraphBuilder.Int("start", 1), OnnxGraphBuilder.Int("end", 2));
        string start = _b.Emit("Squeeze", p + "past_length_scalar", [pastLength]);
        string total = _b.Emit("Add", p + "total_length", [start, _b.Emit("Squeeze", p + "token_count_scalar", [tokenCount])]);
        string positions = _b.Emit("Range", p + "positions", [start, total, _one]);

        string positionColumn = _b.Emit("Unsqueeze", p + "position_column",
            [_b.Emit("Cast", p + "positions_float", [positions], OnnxGraphBuilder.Int("to", OnnxElementType.Float)), _axis1]);
        string angles = _b.Emit("Mul", p + "rope_angles", [positionColumn, _inverseFrequency]);
        _cos = _b.Emit("Reshape", p + "rope_cos", [_b.Emit("Cos", p + "rope_cos_flat", [angles]), _ropeShape]);
        _sin = _b.Emit("Reshape", p + "rope_sin", [_b.Emit("Sin", p + "rope_sin_flat", [angles]), _ropeShape]);

        // Query at position P + i sees keys 0..P + i: allowed[i, j] = j <= P + i.
        string keys = _b.Emit("Unsqueeze", p + "key_row", [_b.Emit("Range", p + "key_positions", [_zero, total, _one]), _axis0]);
        string queries = _b.Emit("Unsqueeze", p + "query_column", [positions, _axis1]);
        string allowed = _b.Emit("LessOrEqual", p + "attention_allowed", [keys, queries]);
        _mask = _b.Emit("Where", p + "attention_mask", [allowed, _zeroF, _minusInfinity]);
    }

    private string AddLayer(int l, string x)
    {
        int d = _c.Dim, kv = _c.KvDim, hs = _c.HeadSize;
        string p = $"l{l}_";
        if (_form == Llama2cCacheForm.Growing) AddPositions(x, PastKey(l), p);

        // Attention block.
        string h = RmsNorm(x, _model.RmsAttention.AsSpan(l * d, d), p + "attention_norm");
        string q = MatMul(h, _model.Wq.AsSpan(l * d * d, d * d), d, d, p + "q", QueryWeightScale);
        string k = MatMul(h, _model.Wk.AsSpan(l * kv * d, kv * d), kv, d, p + "k");
        string v = MatMul(h, _model.Wv.AsSpan(l * kv * d, kv * d), kv, d, p + "v");

        string qRotated = Rope(q, _c.Heads, p + "q"), kRotated = Rope(k, _c.KvHeads, p + "k");
        if (_form == Llama2cCacheForm.FixedCapacity)
            return AddFeedForward(l, _b.Emit("Add", p + "attention_residual", [x, FixedCapacityAttention(l, qRotated, kRotated, v, p)]), p);
        string qHeads = ToHeads(qRotated, _c.Heads, p + "q");
        string kHeads = ToHeads(kRotated, _c.KvHeads, p + "k");
        string vHeads = ToHeads(v, _c.KvHeads, p + "v");
        string keys, values;
        if (_batched)
        {
            // The new rows leave the graph on their own; the padded caches are only read.
            kHeads = _b.AddNode("Identity", [kHeads], NewKey(l));
            vHeads = _b.AddNode("Identity", [vHeads], NewValue(l));
            keys = _b.Emit("Concat", p + "keys", [PastKey(l), kHeads], OnnxGraphBuilder.Int("axis", 2));
            values = _b.Emit("Concat", p + "values", [PastValue(l), vHeads], OnnxGraphBuilder.Int("axis", 2));
        }
        else
        {
            keys = _b.AddNode("Concat", [PastKey(l), kHeads], PresentKey(l), OnnxGraphBuilder.Int("axis", 2));
            values = _b.AddNode("Concat", [PastValue(l), vHeads], PresentValue(l), OnnxGraphBuilder.Int("axis", 2));
        }

        // [1, heads, T, hs] -> [1, kv, group, T, hs]: query head h uses key/value head h / group (run.c's kv_mul).
        string grouped = _b.Emit("Reshape", p + "q_grouped", [qHeads, _b.AddInt64Vector(p + "group_shape", _lead, _c.KvHeads, _c.QueriesPerKvHead, _tokens, hs)]);
        string axis2 = _b.AddInt64Vector(p + "axis2", 2);
        string keysT = _b.Emit("Unsqueeze", p + "keys_t", [_b.Emit("Transpose", p + "keys_t4", [keys], OnnxGraphBuilder.Ints("perm", 0, 1, 3, 2)), axis2]);
        string scores = _b.Emit("MatMul", p + "scores", [grouped, keysT]);
        string scaled = _b.Emit("Mul", p + "scores_scaled", [scores, _b.AddFloats(p + "score_scale", [1f / MathF.Sqrt(hs)])]);
        string masked = _b.Emit("Add", p + "scores_masked", [scaled, _mask]);
        string weights = _b.Emit("Softmax", p + "attention", [masked], OnnxGraphBuilder.Int("axis", -1));
        string context = _b.Emit("MatMul", p + "context", [weights, _b.Emit("Unsqueeze", p + "values_g", [values, axis2])]);
        string contextHeads = _b.Emit("Reshape", p + "context_heads", [context, _b.AddInt64Vector(p + "heads_shape", _lead, _c.Heads, _tokens, hs)]);
        string contextTokens = _b.Emit("Transpose", p + "context_tokens", [contextHeads], OnnxGraphBuilder.Ints("perm", 0, 2, 1, 3));
        string contextFlat = _b.Emit("Reshape", p + "context_flat", [contextTokens, _b.AddInt64Vector(p + "flat_shape", _lead, _tokens, d)]);
        string attention = MatMul(contextFlat, _model.Wo.AsSpan(l * d * d, d * d), d, d, p + "attention_out");
        return AddFeedForward(l, _b.Emit("Add", p + "attention_residual", [x, attention]), p);
    }

    /// <summary>
    /// Attention of the fixed-capacity graph: com.microsoft GroupQueryAttention over the rotated queries and keys
    /// [1, T, heads*hs] and the values [1, T, kv*hs], with past_key/past_value = the caches [1, kv, C, hs] and
    /// present_key/present_value = the same caches (the caller binds one buffer to both, which the operator detects and
    /// then writes only the new rows at P..P+T-1). It attends over rows 0..P+T-1 only, causally among the new tokens, and
    /// maps query head h to key/value head h / group as run.c does. RoPE is applied before it (its own rotary is off).
    /// </summary>
    private string FixedCapacityAttention(int l, string qRotated, string kRotated, string v, string p)
    {
        string q = _b.Emit("Reshape", p + "q_packed", [qRotated, _b.AddInt64Vector(p + "q_packed_shape", 1, -1, _c.Dim)]);
        string k = _b.Emit("Reshape", p + "k_packed", [kRotated, _b.AddInt64Vector(p + "k_packed_shape", 1, -1, _c.KvDim)]);
        string context = _b.UniqueName(p + "context");
        List<string> outputs = [context, PresentKey(l), PresentValue(l)];
        List<AttributeProto> attributes =
        [
            OnnxGraphBuilder.Int("num_heads", _c.Heads), OnnxGraphBuilder.Int("kv_num_heads", _c.KvHeads),
            OnnxGraphBuilder.Float("scale", QueryWeightScale == 1f ? 1f / MathF.Sqrt(_c.HeadSize) : 1f),
        ];
        if (UsesScoresPath(_c.HeadSize))
        {
            // The scores output is read by nobody: asking for it is what steers the operator to its GEMM path (see UsesScoresPath).
            outputs.Add(_b.UniqueName(p + "attention_scores"));
            attributes.Add(OnnxGraphBuilder.Int("qk_output", QkOutputAfterSoftmax));
        }
        _b.AddNode("GroupQueryAttention", [q, k, v, PastKey(l), PastValue(l), _validRowsMinusOne, _validRows], outputs, [.. attributes]);
        _b.Graph.Node[^1].Domain = MicrosoftDomain;
        return MatMul(context, _model.Wo.AsSpan(l * _c.Dim * _c.Dim, _c.Dim * _c.Dim), _c.Dim, _c.Dim, p + "attention_out");
    }

    /// <summary>GroupQueryAttention's qk_output value that writes the softmax probabilities [1, heads, T, P+T] to its fourth output.</summary>
    private const int QkOutputAfterSoftmax = 2;

    /// <summary>Largest head size for which the fixed-capacity graph steers GroupQueryAttention to its GEMM path.</summary>
    public const int ScoresPathMaxHeadSize = 32;

    /// <summary>
    /// Whether the fixed-capacity graph's attention asks GroupQueryAttention for its scores. ONNX Runtime's CPU kernel
    /// (1.31) runs a float step through its flash kernel (for one new token a GEMV decode loop) unless the node asks for
    /// softcap, a smooth softmax, a head sink or the scores; then it runs a GEMM per head (QK', softmax, PV). Both read
    /// only the valid rows and give the same tokens, but their cost per cached row differs with the head size: at 8
    /// (stories260K) the flash loop costs about 3 times as much per row, so a step at position 400 cost 1.8x one at 20
    /// (1.2x with the GEMM path); at 16 and 32 the GEMM path was as fast or faster, at 48 and 64 the flash kernel was the
    /// faster one (docs/llm.md, "Why a step still grew with the position"). Of the four, the scores output is the one
    /// that changes no arithmetic; its price is writing heads x T x (P+T) floats per layer, which the GEMM path computes
    /// anyway.
    /// </summary>
    public static bool UsesScoresPath(int headSize) => headSize <= ScoresPathMaxHeadSize;

    private string AddFeedForward(int l, string x, string p)
    {
        int d = _c.Dim, hidden = _c.HiddenDim;
        // SwiGLU feed-forward: w2(silu(w1 x) * w3 x).
        string f = RmsNorm(x, _model.RmsFfn.AsSpan(l * d, d), p + "ffn_norm");
        string gate = MatMul(f, _model.W1.AsSpan(l * hidden * d, hidden * d), hidden, d, p + "w1");
        string silu = _b.Emit("Mul", p + "silu", [gate, _b.Emit("Sigmoid", p + "gate_sigmoid", [gate])]);
        string up = MatMul(f, _model.W3.AsSpan(l * hidden * d, hidden * d), hidden, d, p + "w3");
        string product = _b.Emit("Mul", p + "swiglu", [silu, up]);
        string down = MatMul(product, _model.W2.AsSpan(l * d * hidden, d * hidden), d, hidden, p + "w2");
        return _b.AddNode("Add", [x, down], LayerOutput(l));
    }

    /// <summary>Rotates pairs (2i, 2i+1) of each head by angle pos * freq_i; input [1,T,heads*hs], output [1,T,heads,hs/2,2].</summary>
    private string Rope(string x, int heads, string hint)
    {
        string pairs = _b.Emit("Reshape", hint + "_pairs", [x, _b.AddInt64Vector(hint + "_pairs_shape", _lead, _tokens, heads, _c.HeadSize / 2, 2)]);
        string even = _b.UniqueName(hint + "_even"), odd = _b.UniqueName(hint + "_odd");
        _b.AddNode("Split", [pairs], [even, odd], OnnxGraphBuilder.Int("axis", -1), OnnxGraphBuilder.Int("num_outputs", 2));
        string rotatedEven = _b.Emit("Sub", hint + "_rot_even", [_b.Emit("Mul", hint + "_ec", [even, _cos]), _b.Emit("Mul", hint + "_os", [odd, _sin])]);
        string rotatedOdd = _b.Emit("Add", hint + "_rot_odd", [_b.Emit("Mul", hint + "_es", [even, _sin]), _b.Emit("Mul", hint + "_oc", [odd, _cos])]);
        return _b.Emit("Concat", hint + "_rotated", [rotatedEven, rotatedOdd], OnnxGraphBuilder.Int("axis", -1));
    }

    /// <summary>[1, T, ...] with heads*hs values per token -> [1, heads, T, hs].</summary>
    private string ToHeads(string x, int heads, string hint)
    {
        string split = _b.Emit("Reshape", hint + "_split", [x, _b.AddInt64Vector(hint + "_split_shape", _lead, _tokens, heads, _c.HeadSize)]);
        return _b.Emit("Transpose", hint + "_heads", [split], OnnxGraphBuilder.Ints("perm", 0, 2, 1, 3));
    }

    /// <summary>run.c's rmsnorm: x / sqrt(mean(x^2) + eps) * weight.</summary>
    private string RmsNorm(string x, ReadOnlySpan<float> weight, string hint)
    {
        string meanSquare = _b.Emit("ReduceMean", hint + "_mean_square", [_b.Emit("Mul", hint + "_square", [x, x]), _axisLast], OnnxGraphBuilder.Int("keepdims", 1));
        string inverse = _b.Emit("Reciprocal", hint + "_inverse_rms", [_b.Emit("Sqrt", hint + "_rms", [_b.Emit("Add", hint + "_plus_eps", [meanSquare, _eps])])]);
        string normalized = _b.Emit("Mul", hint + "_normalized", [x, inverse]);
        return _b.Emit("Mul", hint, [normalized, _b.AddFloats(hint + "_weight", weight, weight.Length)]);
    }

    /// <summary>
    /// x @ (scale W)^T for run.c's row-major W [rows(out), cols(in)]: the initializer is stored transposed, [in, out].
    /// </summary>
    private string MatMul(string x, ReadOnlySpan<float> w, int rows, int cols, string hint, float scale = 1f) =>
        _b.Emit("MatMul", hint, [x, _b.AddFloats(hint + "_weight_t", Transpose(w, 0, rows, cols, scale), cols, rows)]);

    /// <summary>
    /// What the query weights are multiplied by: 1/sqrt(head_size) where the fixed-capacity graph takes the scores path,
    /// so that GroupQueryAttention runs with scale 1. MLAS multiplies one query row by the cached keys without first
    /// packing them only when alpha is 1; with alpha = 1/sqrt(head_size) every step repacks (transposes) all valid key
    /// rows of every head. RoPE is a rotation, so scaling before it is scaling after it.
    /// </summary>
    private float QueryWeightScale => _form == Llama2cCacheForm.FixedCapacity && UsesScoresPath(_c.HeadSize) ? 1f / MathF.Sqrt(_c.HeadSize) : 1f;

    private static float[] Transpose(ReadOnlySpan<float> w, int offset, int rows, int cols, float scale = 1f)
    {
        var t = new float[rows * cols];
        var source = w.Slice(offset, rows * cols);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                t[c * rows + r] = source[r * cols + c] * scale;
        return t;
    }

    private static ValueInfoProto ValueInfo(string name, int elementType, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
            shape.Dim.Add(dim is string symbol
                ? new TensorShapeProto.Types.Dimension { DimParam = symbol }
                : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(dim, System.Globalization.CultureInfo.InvariantCulture) });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elementType, Shape = shape } },
        };
    }
}
