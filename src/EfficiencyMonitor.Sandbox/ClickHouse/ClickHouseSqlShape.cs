using System.Text;

namespace EfficiencyMonitor.Sandbox.ClickHouse;

/// <summary>
/// What the HTTP endpoint needs to know about a statement before running it: its first keyword, the output format it names,
/// and for an INSERT with inline data where the statement ends and the data begins. A lexer over UTF-8 bytes (keywords are
/// ASCII, so multi-byte characters never look like one) that skips strings, quoted identifiers and comments, and only looks
/// at keywords outside parentheses. It is not a parser: the engine still parses and validates everything.
/// </summary>
internal sealed class ClickHouseSqlShape
{
    private ClickHouseSqlShape() { }

    /// <summary>The first keyword, upper-cased (<c>SELECT</c>, <c>INSERT</c>, <c>SET</c>, …), or empty.</summary>
    public string FirstKeyword { get; private init; } = "";

    /// <summary>For a non-INSERT: the name after a top-level <c>FORMAT</c>, else null.</summary>
    public string? OutputFormat { get; private init; }

    /// <summary>True for an INSERT that carries its data inline (<c>FORMAT X</c> or <c>VALUES</c>).</summary>
    public bool HasInlineData { get; private init; }

    /// <summary>Length of the INSERT statement without its FORMAT/VALUES clause.</summary>
    public int InsertPrefixLength { get; private init; }

    /// <summary>Input format of the inline data (<c>Values</c> for a VALUES clause).</summary>
    public string InsertFormat { get; private init; } = "";

    /// <summary>Offset where the inline data starts.</summary>
    public int DataOffset { get; private init; }

    /// <summary>True when another statement follows a top-level <c>;</c> (ClickHouse's HTTP interface refuses that).</summary>
    public bool IsMultiStatement { get; private init; }

    /// <summary>True when the statement only reads (SELECT, SHOW, DESCRIBE, EXISTS, EXPLAIN, WITH …).</summary>
    public bool IsReadOnly => FirstKeyword is "SELECT" or "SHOW" or "DESCRIBE" or "DESC" or "EXISTS" or "EXPLAIN" or "WITH" or "CHECK" or "";

    /// <summary>Analyzes <paramref name="text"/>; <paramref name="queryTextLength"/> bytes of it are query text (the rest may be data).</summary>
    public static ClickHouseSqlShape Analyze(ReadOnlySpan<byte> text, int queryTextLength)
    {
        var lexer = new Lexer(text);
        if (!lexer.Next(out var first) || first.Kind != TokenKind.Word)
        {
            return new ClickHouseSqlShape();
        }

        var firstKeyword = Upper(text.Slice(first.Start, first.Length));
        string? outputFormat = null;
        var depth = 0;
        while (lexer.Next(out var token))
        {
            switch (token.Kind)
            {
                case TokenKind.Open:
                    depth++;
                    continue;
                case TokenKind.Close:
                    depth = Math.Max(0, depth - 1);
                    continue;
                case TokenKind.Semicolon when depth == 0:
                    return new ClickHouseSqlShape
                    {
                        FirstKeyword = firstKeyword,
                        OutputFormat = outputFormat,
                        IsMultiStatement = lexer.Next(out _),
                    };
                case TokenKind.Word when depth == 0:
                    break;
                default:
                    continue;
            }

            var word = text.Slice(token.Start, token.Length);
            if (firstKeyword == "INSERT")
            {
                if (IsWord(word, "SELECT"u8) || IsWord(word, "WITH"u8) || IsWord(word, "INFILE"u8))
                {
                    // INSERT … SELECT and INSERT … FROM INFILE carry no inline data.
                    return new ClickHouseSqlShape { FirstKeyword = firstKeyword };
                }

                if (IsWord(word, "VALUES"u8))
                {
                    return new ClickHouseSqlShape
                    {
                        FirstKeyword = firstKeyword,
                        HasInlineData = true,
                        InsertPrefixLength = token.Start,
                        InsertFormat = "Values",
                        DataOffset = token.Start + token.Length,
                    };
                }

                if (IsWord(word, "FORMAT"u8) && lexer.Next(out var name) && name.Kind is TokenKind.Word or TokenKind.QuotedIdentifier)
                {
                    return new ClickHouseSqlShape
                    {
                        FirstKeyword = firstKeyword,
                        HasInlineData = true,
                        InsertPrefixLength = token.Start,
                        InsertFormat = NameOf(text, name),
                        DataOffset = DataStart(text, name.Start + name.Length, queryTextLength),
                    };
                }
            }
            else if (IsWord(word, "FORMAT"u8) && lexer.Next(out var name) && name.Kind is TokenKind.Word or TokenKind.QuotedIdentifier)
            {
                outputFormat = NameOf(text, name);
            }
        }

        return new ClickHouseSqlShape { FirstKeyword = firstKeyword, OutputFormat = outputFormat };
    }

    /// <summary>
    /// ClickHouse's rule (ParserInsertQuery): data starts after the spaces and tabs that follow the format name and at most one
    /// line break. The skip stays inside the query text: a body sent after a complete query is data from its first byte,
    /// which is what binary formats need.
    /// </summary>
    private static int DataStart(ReadOnlySpan<byte> text, int position, int queryTextLength)
    {
        var limit = position <= queryTextLength ? queryTextLength : text.Length;
        while (position < limit && text[position] is (byte)' ' or (byte)'\t' or (byte)'\f')
        {
            position++;
        }

        if (position < limit && text[position] == '\r')
        {
            position++;
        }

        if (position < limit && text[position] == '\n')
        {
            position++;
        }

        return position;
    }

    private static string NameOf(ReadOnlySpan<byte> text, Token name)
    {
        var raw = text.Slice(name.Start, name.Length);
        return name.Kind == TokenKind.QuotedIdentifier ? Encoding.UTF8.GetString(raw[1..^1]) : Encoding.UTF8.GetString(raw);
    }

    private static bool IsWord(ReadOnlySpan<byte> word, ReadOnlySpan<byte> keyword) => Ascii.EqualsIgnoreCase(word, keyword);

    private static string Upper(ReadOnlySpan<byte> word) => Encoding.ASCII.GetString(word).ToUpperInvariant();

    private enum TokenKind
    {
        Word,
        QuotedIdentifier,
        StringLiteral,
        Open,
        Close,
        Semicolon,
        Other,
    }

    private readonly record struct Token(TokenKind Kind, int Start, int Length);

    private ref struct Lexer(ReadOnlySpan<byte> text)
    {
        private readonly ReadOnlySpan<byte> _text = text;
        private int _position;

        public bool Next(out Token token)
        {
            SkipTrivia();
            token = default;
            if (_position >= _text.Length)
            {
                return false;
            }

            var start = _position;
            var c = _text[_position];
            if (IsWordByte(c) && !(c is >= (byte)'0' and <= (byte)'9'))
            {
                while (_position < _text.Length && IsWordByte(_text[_position]))
                {
                    _position++;
                }

                token = new Token(TokenKind.Word, start, _position - start);
                return true;
            }

            switch (c)
            {
                case (byte)'\'':
                    SkipQuoted((byte)'\'');
                    token = new Token(TokenKind.StringLiteral, start, _position - start);
                    return true;
                case (byte)'"' or (byte)'`':
                    SkipQuoted(c);
                    token = new Token(TokenKind.QuotedIdentifier, start, _position - start);
                    return true;
                case (byte)'(' or (byte)'[':
                    _position++;
                    token = new Token(TokenKind.Open, start, 1);
                    return true;
                case (byte)')' or (byte)']':
                    _position++;
                    token = new Token(TokenKind.Close, start, 1);
                    return true;
                case (byte)';':
                    _position++;
                    token = new Token(TokenKind.Semicolon, start, 1);
                    return true;
                default:
                    _position++;
                    while (_position < _text.Length && c is >= (byte)'0' and <= (byte)'9' && IsWordByte(_text[_position]))
                    {
                        _position++; // a number such as 1e5 or 0x1F is one token
                    }

                    token = new Token(TokenKind.Other, start, _position - start);
                    return true;
            }
        }

        private static bool IsWordByte(byte c) =>
            c is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9') or (byte)'_' or (byte)'$' or >= 0x80;

        private void SkipQuoted(byte quote)
        {
            _position++;
            while (_position < _text.Length)
            {
                var c = _text[_position++];
                if (c == '\\')
                {
                    _position++;
                }
                else if (c == quote)
                {
                    if (_position < _text.Length && _text[_position] == quote)
                    {
                        _position++; // doubled quote
                        continue;
                    }

                    return;
                }
            }
        }

        private void SkipTrivia()
        {
            while (_position < _text.Length)
            {
                var c = _text[_position];
                if (c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\f' or (byte)'\v')
                {
                    _position++;
                }
                else if (c == '-' && _position + 1 < _text.Length && _text[_position + 1] == '-')
                {
                    SkipLine();
                }
                else if (c == '#' && _position + 1 < _text.Length && _text[_position + 1] is (byte)' ' or (byte)'!')
                {
                    SkipLine();
                }
                else if (c == '/' && _position + 1 < _text.Length && _text[_position + 1] == '*')
                {
                    var nesting = 0;
                    while (_position < _text.Length)
                    {
                        if (_text[_position] == '/' && _position + 1 < _text.Length && _text[_position + 1] == '*')
                        {
                            nesting++;
                            _position += 2;
                        }
                        else if (_text[_position] == '*' && _position + 1 < _text.Length && _text[_position + 1] == '/')
                        {
                            _position += 2;
                            if (--nesting == 0)
                            {
                                break;
                            }
                        }
                        else
                        {
                            _position++;
                        }
                    }
                }
                else
                {
                    return;
                }
            }
        }

        private void SkipLine()
        {
            while (_position < _text.Length && _text[_position] != '\n')
            {
                _position++;
            }
        }
    }
}
