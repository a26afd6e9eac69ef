using System.Globalization;
using MathNet.Numerics.Random;

namespace NotebookAttention.Training;

/// <summary>
/// Checks a model's backward pass against finite differences of its loss: for sampled parameter entries θ, the
/// analytic dLoss/dθ from <see cref="ISequenceModel.LossAndGradients"/> against a central difference of
/// <see cref="ISequenceModel.Evaluate"/>'s loss, in fp64. Works for any <see cref="ISequenceModel"/>.
/// </summary>
/// <remarks>
/// <para>The numeric derivative is Richardson-extrapolated central differences,
/// D = (4 D(h/2) - D(h)) / 3 with D(h) = (L(θ + h) - L(θ - h)) / 2h and h = <see cref="Step"/>: its truncation error is
/// O(h⁴) instead of O(h²), so h can be large enough that rounding the loss (about 1e-16 |L|, divided by h) stays
/// near 1e-12 absolute.</para>
/// <para>Per entry, relative error = |analytic - numeric| / max(|analytic|, |numeric|, <see cref="Floor"/>). The floor
/// is where the numeric derivative stops resolving the gradient to 1e-6: its own error is about 1e-12, so below a
/// gradient of 1e-6 the comparison becomes absolute (|analytic - numeric| ≤ 1e-12 passes). That matters for real
/// models: an entry the batch never reaches has exactly 0 both ways, and the key bias b_K of attention has a gradient
/// that is zero up to rounding (adding one vector to every key adds the same q · b_K to every score of a row, which
/// the softmax ignores).</para>
/// </remarks>
public static class GradientCheck
{
    /// <summary>The finite-difference step h.</summary>
    public const double Step = 1e-3;

    /// <summary>The floor of the relative error's denominator (see the remarks).</summary>
    public const double Floor = 1e-6;

    /// <summary>Compares analytic and numeric gradients at <paramref name="entries"/> sampled parameter entries.</summary>
    /// <param name="model">The model; its weights are restored exactly and its gradients are left at zero.</param>
    /// <param name="batch">The batch whose loss is differentiated.</param>
    /// <param name="entries">
    /// Entries to check (at least 1), spread over the tensors: a uniform draw over all entries would almost never reach
    /// the small tensors (LayerNorm gains, biases), so the tensors take turns in <see cref="ISequenceModel.Parameters"/>
    /// order, one entry each per turn, until <paramref name="entries"/> are chosen; within a tensor the entries are
    /// drawn without repeats, and a tensor whose entries are all chosen drops out. With at least as many entries as
    /// tensors, every tensor is checked. Capped at the model's number of scalars.
    /// </param>
    /// <param name="seed">Seed of the sampling.</param>
    /// <returns>Every sampled entry and the largest relative error.</returns>
    /// <exception cref="ArgumentException">The model has no parameters or <paramref name="entries"/> is below 1.</exception>
    public static GradientCheckResult Run(ISequenceModel model, SequenceBatch batch, int entries = 40, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batch);
        Check.AtLeast(entries, 1, "entries to check", nameof(entries));
        var parameters = model.Parameters;
        var total = parameters.Sum(p => (long)p.Count);
        if (total == 0)
        {
            throw new ArgumentException("the model has no parameters: there is nothing to check.", nameof(model));
        }

        foreach (var parameter in parameters)
        {
            parameter.ZeroGradient();
        }

        model.LossAndGradients(batch);
        var random = new Xoshiro256StarStar(seed, threadSafe: false);
        var checks = new List<GradientEntry>(entries);
        foreach (var (index, flat) in Stratified(parameters, entries, random))
        {
            var parameter = parameters[index];
            var row = flat / parameter.Value.ColumnCount;
            var column = flat % parameter.Value.ColumnCount;
            var analytic = parameter.Gradient[row, column];
            var numeric = NumericDerivative(model, batch, parameter, row, column);
            var error = Math.Abs(analytic - numeric) / Math.Max(Math.Max(Math.Abs(analytic), Math.Abs(numeric)), Floor);
            checks.Add(new GradientEntry(parameter.Name, row, column, analytic, numeric, error));
        }

        foreach (var parameter in parameters)
        {
            parameter.ZeroGradient();
        }

        return new GradientCheckResult(checks);
    }

    /// <summary>
    /// The entries to check, as (parameter index, row-major flat index): round-robin over the tensors, each tensor's
    /// entries in a seeded random order (a partial Fisher-Yates shuffle, so no entry is drawn twice).
    /// </summary>
    private static List<(int Parameter, int Flat)> Stratified(IReadOnlyList<Parameter> parameters, int entries, Random random)
    {
        var orders = parameters.Select(p => Enumerable.Range(0, p.Count).ToArray()).ToArray();
        var taken = new int[parameters.Count];
        var chosen = new List<(int, int)>(entries);
        var total = parameters.Sum(p => (long)p.Count);
        while (chosen.Count < Math.Min(entries, total))
        {
            for (var p = 0; p < parameters.Count && chosen.Count < entries; p++)
            {
                var order = orders[p];
                if (taken[p] == order.Length)
                {
                    continue;
                }

                var pick = taken[p] + random.Next(order.Length - taken[p]);
                (order[taken[p]], order[pick]) = (order[pick], order[taken[p]]);
                chosen.Add((p, order[taken[p]]));
                taken[p]++;
            }
        }

        return chosen;
    }

    /// <summary>Richardson-extrapolated central difference of the loss in one entry (see the remarks).</summary>
    private static double NumericDerivative(ISequenceModel model, SequenceBatch batch, Parameter parameter, int row, int column)
    {
        var original = parameter.Value[row, column];
        double Loss(double value)
        {
            parameter.Value[row, column] = value;
            return model.Evaluate(batch).Loss;
        }

        try
        {
            var wide = (Loss(original + Step) - Loss(original - Step)) / (2 * Step);
            var narrow = (Loss(original + (Step / 2)) - Loss(original - (Step / 2))) / Step;
            return ((4 * narrow) - wide) / 3;
        }
        finally
        {
            parameter.Value[row, column] = original;
        }
    }
}

/// <summary>One checked entry.</summary>
/// <param name="Parameter">The parameter's name.</param>
/// <param name="Row">Row of the entry.</param>
/// <param name="Column">Column of the entry.</param>
/// <param name="Analytic">dLoss/dθ from the backward pass.</param>
/// <param name="Numeric">dLoss/dθ from finite differences.</param>
/// <param name="RelativeError">|analytic - numeric| / max(|analytic|, |numeric|, floor).</param>
public sealed record GradientEntry(string Parameter, int Row, int Column, double Analytic, double Numeric, double RelativeError)
{
    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Parameter}[{Row}, {Column}]: analytic {Analytic:G6}, numeric {Numeric:G6}, relative error {RelativeError:E1}");
}

/// <summary>What <see cref="GradientCheck.Run"/> found.</summary>
/// <param name="Entries">Every checked entry, in sampling order.</param>
public sealed record GradientCheckResult(IReadOnlyList<GradientEntry> Entries)
{
    /// <summary>The entry with the largest relative error.</summary>
    public GradientEntry Worst => Entries.MaxBy(e => e.RelativeError)!;

    /// <summary>The largest relative error.</summary>
    public double LargestRelativeError => Worst.RelativeError;

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Entries.Count} entries checked, largest relative error {LargestRelativeError:E1} at {Worst.Parameter}[{Worst.Row}, {Worst.Column}]");
}
