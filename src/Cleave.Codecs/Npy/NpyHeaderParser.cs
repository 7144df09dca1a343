using System.Globalization;

namespace Cleave.Codecs.Npy;

/// <summary>
/// Reads the Python dict literal of a .npy header, e.g. <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (3, 4), }</c>.
/// Only the literals a header can hold are understood (strings, True/False/None, integers, tuples and lists), with
/// any whitespace, either quote style, optional trailing commas and Python 2's <c>3L</c> longs, so files from other
/// writers (cnpy, npy crates, old numpy) load. Anything else is a <see cref="FrameFormatException"/> naming the offset.
/// </summary>
internal ref struct NpyHeaderParser
{
    // Headers nest at most a list of tuples (structured dtypes, which are refused later); deeper input is hostile.
    private const int MaxDepth = 8;

    private readonly ReadOnlySpan<char> _text;
    private int _pos;

    private NpyHeaderParser(ReadOnlySpan<char> text)
    {
        _text = text;
        _pos = 0;
    }

    /// <summary>Parses the header text into its <c>descr</c>, <c>fortran_order</c> and <c>shape</c> entries.</summary>
    public static (string Descr, bool FortranOrder, long[] Shape) Parse(ReadOnlySpan<char> text)
    {
        var parser = new NpyHeaderParser(text);
        Dictionary<string, object?> entries = parser.ParseDict();
        parser.SkipWhitespace();
        if (parser._pos != text.Length)
            throw parser.MalformedHere("unexpected text after the closing '}'");

        foreach (string key in entries.Keys)
            if (key is not ("descr" or "fortran_order" or "shape"))
                throw Malformed($"unexpected key '{key}' (a .npy header has exactly 'descr', 'fortran_order' and 'shape')");

        object? descr = Required(entries, "descr");
        if (descr is List<object?>)
            throw new FrameFormatException(FrameError.BadDataType,
                "structured .npy dtypes (a list 'descr') are not supported; save a plain numeric array");
        if (descr is not string descrText)
            throw Malformed($"'descr' must be a string, not {Describe(descr)}");

        if (Required(entries, "fortran_order") is not bool fortranOrder)
            throw Malformed($"'fortran_order' must be True or False, not {Describe(entries["fortran_order"])}");

        object? shapeValue = Required(entries, "shape");
        if (shapeValue is not List<object?> dims)
            throw new FrameFormatException(FrameError.BadShape,
                $".npy 'shape' must be a tuple of integers, not {Describe(shapeValue)}");
        var shape = new long[dims.Count];
        for (int i = 0; i < dims.Count; i++)
        {
            if (dims[i] is not long d)
                throw new FrameFormatException(FrameError.BadShape,
                    $".npy 'shape' entry {i} must be an integer, not {Describe(dims[i])}");
            if (d < 0)
                throw new FrameFormatException(FrameError.BadShape, $".npy 'shape' entry {i} is negative ({d})");
            shape[i] = d;
        }
        return (descrText, fortranOrder, shape);
    }

    private static object? Required(Dictionary<string, object?> entries, string key) =>
        entries.TryGetValue(key, out object? value) ? value : throw Malformed($"missing key '{key}'");

    private static string Describe(object? value) => value switch
    {
        null => "None",
        string s => $"the string '{s}'",
        bool b => b ? "True" : "False",
        long l => $"the integer {l}",
        List<object?> => "a sequence",
        _ => value.GetType().Name,
    };

    private Dictionary<string, object?> ParseDict()
    {
        SkipWhitespace();
        Expect('{', "the header must start with '{'");
        var entries = new Dictionary<string, object?>(StringComparer.Ordinal);
        while (true)
        {
            SkipWhitespace();
            if (TryConsume('}')) return entries;
            int keyAt = _pos;
            if (ParseValue(depth: 1) is not string key)
                throw Malformed($"dict keys must be strings (at offset {keyAt})");
            SkipWhitespace();
            Expect(':', $"expected ':' after key '{key}'");
            object? value = ParseValue(depth: 1);
            if (!entries.TryAdd(key, value))
                throw Malformed($"duplicate key '{key}'");
            SkipWhitespace();
            if (TryConsume(',')) continue;
            Expect('}', "expected ',' or '}' between entries");
            return entries;
        }
    }

    private object? ParseValue(int depth)
    {
        if (depth > MaxDepth) throw MalformedHere($"values nested deeper than {MaxDepth}");
        SkipWhitespace();
        if (_pos >= _text.Length) throw MalformedHere("the header ends inside the dict (no closing '}')");
        char c = _text[_pos];
        return c switch
        {
            '\'' or '"' => ParseString(c),
            '(' => ParseSequence(')', depth),
            '[' => ParseSequence(']', depth),
            '-' or '+' or (>= '0' and <= '9') => ParseInteger(),
            _ when char.IsAsciiLetter(c) || c == '_' => ParseName(),
            _ => throw MalformedHere($"unexpected character '{Printable(c)}'"),
        };
    }

    private string ParseString(char quote)
    {
        int start = ++_pos;
        var builder = new System.Text.StringBuilder();
        while (_pos < _text.Length)
        {
            char c = _text[_pos++];
            if (c == quote) return builder.ToString();
            if (c == '\\')
            {
                // No header string needs escapes; take the next character literally rather than guess Python's rules.
                if (_pos >= _text.Length) break;
                c = _text[_pos++];
            }
            builder.Append(c);
        }
        _pos = start - 1;
        throw MalformedHere("unterminated string");
    }

    private List<object?> ParseSequence(char close, int depth)
    {
        _pos++;
        var items = new List<object?>();
        while (true)
        {
            SkipWhitespace();
            if (TryConsume(close)) return items;
            items.Add(ParseValue(depth + 1));
            SkipWhitespace();
            if (TryConsume(',')) continue;
            Expect(close, $"expected ',' or '{close}' in a sequence");
            // "(5)" is a parenthesised integer in Python; as a shape it can only mean (5,), so it is read as such.
            return items;
        }
    }

    private long ParseInteger()
    {
        int start = _pos;
        if (_text[_pos] is '-' or '+') _pos++;
        int digitsStart = _pos;
        while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos])) _pos++;
        if (_pos == digitsStart) { _pos = start; throw MalformedHere("expected digits after the sign"); }
        ReadOnlySpan<char> number = _text[start.._pos];
        if (_pos < _text.Length && _text[_pos] is 'L' or 'l') _pos++; // Python 2 wrote longs as 3L.
        if (!long.TryParse(number, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
            throw new FrameFormatException(FrameError.BadShape, $".npy header integer {number.ToString()} is too large");
        return value;
    }

    private object? ParseName()
    {
        int start = _pos;
        while (_pos < _text.Length && (char.IsAsciiLetterOrDigit(_text[_pos]) || _text[_pos] == '_')) _pos++;
        ReadOnlySpan<char> name = _text[start.._pos];
        if (name.SequenceEqual("True")) return true;
        if (name.SequenceEqual("False")) return false;
        if (name.SequenceEqual("None")) return null;
        _pos = start;
        throw MalformedHere($"unknown name '{name.ToString()}' (only True, False and None are allowed)");
    }

    private void SkipWhitespace()
    {
        while (_pos < _text.Length && _text[_pos] is ' ' or '\t' or '\r' or '\n' or '\f' or '\v') _pos++;
    }

    private bool TryConsume(char c)
    {
        if (_pos < _text.Length && _text[_pos] == c) { _pos++; return true; }
        return false;
    }

    private void Expect(char c, string problem)
    {
        if (!TryConsume(c)) throw MalformedHere(problem);
    }

    private readonly FrameFormatException MalformedHere(string problem)
    {
        string found = _pos >= _text.Length
            ? "the end of the header"
            : "'" + Excerpt(_text[_pos..]) + "'";
        return Malformed($"{problem} at offset {_pos}, found {found}");
    }

    private static FrameFormatException Malformed(string problem) =>
        new(FrameError.BadParameters, $"malformed .npy header dict: {problem}");

    private static string Excerpt(ReadOnlySpan<char> rest)
    {
        var builder = new System.Text.StringBuilder();
        foreach (char c in rest[..Math.Min(rest.Length, 24)]) builder.Append(Printable(c));
        return builder.ToString();
    }

    private static string Printable(char c) => c is >= ' ' and < '\x7f' ? c.ToString() : $"\\x{(int)c:x2}";
}
