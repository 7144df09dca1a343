namespace Cleave.Models.Importers.TfLite;

/// <summary>TFLite builtin operator codes (schema.fbs BuiltinOperator) and their schema names, for messages.</summary>
public static class TfLiteBuiltinOperators
{
    public const int Add = 0;
    public const int AveragePool2D = 1;
    public const int Concatenation = 2;
    public const int Conv2D = 3;
    public const int DepthwiseConv2D = 4;
    public const int Dequantize = 6;
    public const int FullyConnected = 9;
    public const int Logistic = 14;
    public const int MaxPool2D = 17;
    public const int Mul = 18;
    public const int Relu = 19;
    public const int ReluN1To1 = 20;
    public const int Relu6 = 21;
    public const int Reshape = 22;
    public const int ResizeBilinear = 23;
    public const int Softmax = 25;
    public const int Tanh = 28;
    public const int Custom = 32;
    public const int Pad = 34;
    public const int Gather = 36;
    public const int Transpose = 39;
    public const int Mean = 40;
    public const int Sub = 41;
    public const int Div = 42;
    public const int Squeeze = 43;
    public const int StridedSlice = 45;
    public const int Exp = 47;
    public const int Cast = 53;
    public const int Maximum = 55;
    public const int ArgMax = 56;
    public const int Minimum = 57;
    public const int PadV2 = 60;
    public const int Slice = 65;
    public const int ExpandDims = 70;
    public const int Sum = 74;
    public const int Sqrt = 75;
    public const int Rsqrt = 76;
    public const int Shape = 77;
    public const int Pack = 83;
    public const int Unpack = 88;
    public const int FloorDiv = 90;
    public const int Square = 92;
    public const int ResizeNearestNeighbor = 97;
    public const int LeakyRelu = 98;
    public const int GatherNd = 107;
    public const int Quantize = 114;
    public const int HardSwish = 117;
    public const int ReduceMax = 82;
    public const int SquaredDifference = 99;
    public const int Split = 49;
    public const int SplitV = 102;
    public const int Floor = 8;
    public const int Neg = 59;
    public const int Abs = 101;
    public const int Greater = 61;
    public const int Less = 58;
    public const int Equal = 71;
    public const int Pow = 78;
    public const int ReduceMin = 89;
    public const int Tile = 69;
    public const int Round = 116;
    public const int SelectV2 = 123;
    public const int Select = 64;
    public const int BatchMatMul = 126;
    public const int Elu = 111;
    public const int Log = 73;
    public const int FloorMod = 95;
    public const int Ceil = 104;

    private static readonly string[] Names =
    [
        "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE",
        "DEQUANTIZE", "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED", "HASHTABLE_LOOKUP", "L2_NORMALIZATION",
        "L2_POOL_2D", "LOCAL_RESPONSE_NORMALIZATION", "LOGISTIC", "LSH_PROJECTION", "LSTM", "MAX_POOL_2D",
        "MUL", "RELU", "RELU_N1_TO_1", "RELU6", "RESHAPE", "RESIZE_BILINEAR",
        "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF", "TANH", "CONCAT_EMBEDDINGS",
        "SKIP_GRAM", "CALL", "CUSTOM", "EMBEDDING_LOOKUP_SPARSE", "PAD", "UNIDIRECTIONAL_SEQUENCE_RNN",
        "GATHER", "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB",
        "DIV", "SQUEEZE", "UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP",
        "TOPK_V2", "SPLIT", "LOG_SOFTMAX", "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST",
        "PRELU", "MAXIMUM", "ARG_MAX", "MINIMUM", "LESS", "NEG",
        "PADV2", "GREATER", "GREATER_EQUAL", "LESS_EQUAL", "SELECT", "SLICE",
        "SIN", "TRANSPOSE_CONV", "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL",
        "NOT_EQUAL", "LOG", "SUM", "SQRT", "RSQRT", "SHAPE",
        "POW", "ARG_MIN", "FAKE_QUANT", "REDUCE_PROD", "REDUCE_MAX", "PACK",
        "LOGICAL_OR", "ONE_HOT", "LOGICAL_AND", "LOGICAL_NOT", "UNPACK", "REDUCE_MIN",
        "FLOOR_DIV", "REDUCE_ANY", "SQUARE", "ZEROS_LIKE", "FILL", "FLOOR_MOD",
        "RANGE", "RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE", "MIRROR_PAD", "ABS",
        "SPLIT_V", "UNIQUE", "CEIL", "REVERSE_V2", "ADD_N", "GATHER_ND",
        "COS", "WHERE", "RANK", "ELU", "REVERSE_SEQUENCE", "MATRIX_DIAG",
        "QUANTIZE", "MATRIX_SET_DIAG", "ROUND", "HARD_SWISH", "IF", "WHILE",
        "NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5", "SCATTER_ND", "SELECT_V2", "DENSIFY", "SEGMENT_SUM",
        "BATCH_MATMUL", "PLACEHOLDER_FOR_GREATER_OP_CODES", "CUMSUM", "CALL_ONCE", "BROADCAST_TO", "RFFT2D",
        "CONV_3D", "IMAG", "REAL", "COMPLEX_ABS", "HASHTABLE", "HASHTABLE_FIND",
        "HASHTABLE_IMPORT", "HASHTABLE_SIZE", "REDUCE_ALL", "CONV_3D_TRANSPOSE", "VAR_HANDLE", "READ_VARIABLE",
        "ASSIGN_VARIABLE", "BROADCAST_ARGS", "RANDOM_STANDARD_NORMAL", "BUCKETIZE", "RANDOM_UNIFORM", "MULTINOMIAL",
        "GELU", "DYNAMIC_UPDATE_SLICE", "RELU_0_TO_1", "UNSORTED_SEGMENT_PROD", "UNSORTED_SEGMENT_MAX", "UNSORTED_SEGMENT_SUM",
        "ATAN2", "UNSORTED_SEGMENT_MIN", "SIGN", "BITCAST", "BITWISE_XOR", "RIGHT_SHIFT",
    ];

    /// <summary>The schema name of a builtin code, e.g. 3 -> CONV_2D.</summary>
    public static string NameOf(int code) => code >= 0 && code < Names.Length ? Names[code] : $"BUILTIN_{code}";
}
