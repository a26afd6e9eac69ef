using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NotebookAttention.Fast;

/// <summary>
/// Exact GELU, x/2 (1 + erf(x / sqrt 2)), in fp32: erf from Abramowitz and Stegun 7.1.26 (absolute error below
/// 1.5e-7), vectorized with the fast exp of <see cref="Microkernels"/> (its argument, -x^2, is never positive).
/// </summary>
internal static class Activations
{
    private const float RootHalf = 0.70710678f;

    /// <summary>erf(x), scalar.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Erf(float x)
    {
        var sign = MathF.Sign(x);
        x = MathF.Abs(x);
        var t = 1f / (1f + (0.3275911f * x));
        var poly = ((((((1.061405429f * t) - 1.453152027f) * t) + 1.421413741f) * t) - 0.284496736f) * t;
        poly = (poly + 0.254829592f) * t;
        return sign * (1f - (poly * MathF.Exp(-x * x)));
    }

    /// <summary>erf on eight values (AVX2 + FMA).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Erf(Vector256<float> x)
    {
        var magnitude = Vector256.Abs(x);
        var t = Vector256<float>.One / (Vector256<float>.One + (Vector256.Create(0.3275911f) * magnitude));
        var poly = (((((((Vector256.Create(1.061405429f) * t) - Vector256.Create(1.453152027f)) * t) + Vector256.Create(1.421413741f)) * t) - Vector256.Create(0.284496736f)) * t) + Vector256.Create(0.254829592f);
        var value = Vector256<float>.One - (poly * t * VectorRows.Exp(-(magnitude * magnitude)));
        return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), -value, value);
    }

    /// <summary>erf on sixteen values (AVX-512).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Erf(Vector512<float> x)
    {
        var magnitude = Vector512.Abs(x);
        var t = Vector512<float>.One / (Vector512<float>.One + (Vector512.Create(0.3275911f) * magnitude));
        var poly = (((((((Vector512.Create(1.061405429f) * t) - Vector512.Create(1.453152027f)) * t) + Vector512.Create(1.421413741f)) * t) - Vector512.Create(0.284496736f)) * t) + Vector512.Create(0.254829592f);
        var value = Vector512<float>.One - (poly * t * VectorRows.Exp(-(magnitude * magnitude)));
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), -value, value);
    }

    /// <summary>GELU in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Gelu(Span<float> values)
    {
        fixed (float* p = values)
        {
            Gelu(p, values.Length);
        }
    }

    /// <summary>GELU in place on <paramref name="count"/> floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Gelu(float* values, int count)
    {
        var i = 0;
        if (Microkernels.Level == KernelLevel.Avx512)
        {
            var half = Vector512.Create(0.5f);
            var rootHalf = Vector512.Create(RootHalf);
            for (; i + 16 <= count; i += 16)
            {
                var v = Vector512.Load(values + i);
                (half * v * (Vector512<float>.One + Erf(v * rootHalf))).Store(values + i);
            }
        }
        else if (Microkernels.Accelerated)
        {
            var half = Vector256.Create(0.5f);
            var rootHalf = Vector256.Create(RootHalf);
            for (; i + 8 <= count; i += 8)
            {
                var v = Vector256.Load(values + i);
                (half * v * (Vector256<float>.One + Erf(v * rootHalf))).Store(values + i);
            }
        }

        for (; i < count; i++)
        {
            var v = values[i];
            values[i] = 0.5f * v * (1f + Erf(v * RootHalf));
        }
    }
}
