using System.Globalization;
using System.Text.Json.Nodes;
using NotebookAttention.Training;

namespace NotebookAttention.Benchmarks;

/// <summary>One model of notebooks 09-10 whose training step is timed beside PyTorch's.</summary>
/// <param name="Label">How its row names it.</param>
/// <param name="N">Sequence length.</param>
/// <param name="Create">Makes the seeded library model and batch (the same ones <see cref="TrainingBenchmarks"/> and <see cref="TransformerStepBenchmarks"/> time).</param>
/// <param name="PeerModel">The architecture the peer builds: "elman", "lstm" or "transformer" (torch_peer.py).</param>
/// <param name="Sizes">The sizes the peer builds it with.</param>
public sealed record TrainingPeerCase(string Label, int N, Func<(ISequenceModel Model, SequenceBatch Batch)> Create, string PeerModel, JsonObject Sizes);

/// <summary>One training case's result.</summary>
/// <param name="Case">The case.</param>
/// <param name="Sequences">Sequences in the batch.</param>
/// <param name="Modules">The PyTorch modules the peer built the model from.</param>
/// <param name="LossError">|loss_torch - loss_library| / |loss_library| after the first step.</param>
/// <param name="GradientError">The worst parameter's gradient error (see <see cref="TrainingPeers.GradientError"/>).</param>
/// <param name="UpdateError">‖Δθ_torch - Δθ_library‖ / ‖Δθ_library‖ of Adam's first update over all parameters.</param>
/// <param name="Library">The library's fastest thread count for the step, or null when the case was not timed.</param>
/// <param name="Torch">PyTorch's, the same way.</param>
/// <param name="Load">The load average around the case.</param>
/// <param name="Problem">Why the case was not timed (the peer failed or ended, or its model is not the library's), or null.</param>
public sealed record TrainingPeerResult(TrainingPeerCase Case, int Sequences, string Modules, double LossError, double GradientError, double UpdateError, Timing? Library, Timing? Torch, Load Load, string? Problem)
{
    /// <summary>PyTorch's time over the library's (each side's fastest): above 1 the library's step is faster.</summary>
    public double Speedup => Library is { } library && Torch is { } torch ? torch.Ms / library.Ms : double.NaN;
}

/// <summary>
/// One training step (zero the gradients, loss and gradients of the batch, one Adam update; fp64; each side on 1 thread
/// and on all cores, its faster reported) of each model of notebooks 09-10 at their sizes, against the same model in PyTorch. The same
/// model, proven: the library's initial parameters and its batch go to the peer, which builds the architecture from
/// PyTorch's own modules (torch_peer.py) and takes one step; its loss, every parameter's gradient and Adam's update must
/// equal the library's (<see cref="Tolerance"/>, <see cref="UpdateTolerance"/>) before either side is timed. A model that
/// differs is reported in its row and not timed. Timing then runs rounds of every contender as
/// <see cref="PeerComparison"/> does.
/// </summary>
public static class TrainingPeers
{
    /// <summary>Loss and gradients of the first step must agree to this, relative (fp64 on both sides).</summary>
    public const double Tolerance = 1e-10;

    /// <summary>
    /// Adam's first update may differ by this much, relative to its norm. Looser than <see cref="Tolerance"/> on
    /// purpose: the first update of an entry is η g / (|g| + ε) with ε = 1e-8, so an entry whose gradient is near ε
    /// turns a gradient difference of δ into an update difference of about η δ / ε.
    /// </summary>
    public const double UpdateTolerance = 1e-7;

    /// <summary>Adam's learning rate for the step, as <see cref="TrainingBenchmarks"/> uses (β1, β2, ε the defaults).</summary>
    public const double LearningRate = 1e-3;

    /// <summary>
    /// The cases: the Elman RNN and the LSTM at n = 51 and 201 (notebook 10's sizes), the transformer with one and two
    /// layers at n = 8 (notebook 09's reverse task) and 51 and 201 (notebook 10's task), the models and batches of
    /// <see cref="TrainingBenchmarks"/> and <see cref="TransformerWorkload"/>; and notebook 09's other choice, the
    /// two-layer transformer on reverse batches of 4 to 8 digits, whose padding the peer must mask as the library does.
    /// </summary>
    /// <returns>The cases.</returns>
    public static IReadOnlyList<TrainingPeerCase> Cases()
    {
        var cases = new List<TrainingPeerCase>();
        var recurrent = new JsonObject { ["vocabulary"] = TrainingBenchmarks.Vocabulary, ["hidden"] = TrainingBenchmarks.Hidden, ["embedding"] = TrainingBenchmarks.Embedding };
        foreach (var n in new[] { 51, 201 })
        {
            var settings = new RecurrentSettings(TrainingBenchmarks.Vocabulary, TrainingBenchmarks.Hidden, TrainingBenchmarks.Embedding, Seed: 1, LongRangeSettings.Notebook.ForgetBias);
            cases.Add(new TrainingPeerCase("Elman RNN", n, () => (new ElmanRnnModel(settings), RememberFirst(n)), "elman", recurrent));
            cases.Add(new TrainingPeerCase("LSTM", n, () => (new LstmModel(settings), RememberFirst(n)), "lstm", recurrent));
        }

        foreach (var n in new[] { 8, 51, 201 })
        {
            foreach (var layers in new[] { 1, 2 })
            {
                var s = TransformerWorkload.Settings(n, layers);
                var label = string.Create(CultureInfo.InvariantCulture, $"transformer, {layers} layer{(layers > 1 ? "s" : string.Empty)}, d_model {s.DModel}, {s.Heads} head{(s.Heads > 1 ? "s" : string.Empty)}");
                cases.Add(new TrainingPeerCase(label, n, () => TransformerWorkload.Create(n, layers), "transformer", TransformerSizes(s)));
            }
        }

        // Notebook 09's other choice, ReverseTask(4, 8) with two layers: a padded batch, so the padding masks are proven too.
        var padded = TransformerWorkload.Settings(8, 2);
        cases.Add(new TrainingPeerCase(string.Create(CultureInfo.InvariantCulture, $"transformer, 2 layers, d_model {padded.DModel}, 1 head, 4-8 digits (padded)"), 8, () =>
            (new TransformerModel(padded), new ReverseTask(4, 8).Sample(TransformerWorkload.ReverseBatch, new Random(1))), "transformer", TransformerSizes(padded)));
        return cases;

        static SequenceBatch RememberFirst(int n) => new RememberFirstTask(n - 1).Sample(TrainingBenchmarks.Batch, new Random(1));

        static JsonObject TransformerSizes(TransformerSettings s) =>
            new() { ["vocabulary"] = s.VocabularySize, ["max_length"] = s.MaxLength, ["d_model"] = s.DModel, ["heads"] = s.Heads, ["feed_forward"] = s.FeedForward, ["layers"] = s.Layers };
    }

    /// <summary>Checks and times every case against the peer, or records why it could not.</summary>
    /// <param name="peer">The running peer, or null.</param>
    /// <param name="why">Why there is no peer.</param>
    /// <param name="cases">The cases.</param>
    /// <param name="rounds">Rounds per case.</param>
    /// <returns>One result per case; without a peer, an empty list.</returns>
    public static IReadOnlyList<TrainingPeerResult> Run(TorchPeer? peer, string why, IReadOnlyList<TrainingPeerCase> cases, int rounds = 3)
    {
        ArgumentNullException.ThrowIfNull(cases);
        if (peer is null)
        {
            Console.WriteLine($"PyTorch training steps not measured: {why}");
            return [];
        }

        return PeerComparison.EachCase(peer, cases, "training", c => $"training step side by side with PyTorch: {c.Label}, n = {c.N} ...",
            (c, id, before) => Measure(peer, c, id, rounds, before),
            (c, load, problem) => new TrainingPeerResult(c, 0, "-", double.NaN, double.NaN, double.NaN, null, null, load, problem));
    }

    /// <summary>
    /// The worst parameter's gradient error: max over parameters p of ‖g_p^torch - g_p‖ / ‖g_p‖ (2-norms over the
    /// parameter's entries). A parameter whose gradient is zero up to rounding (‖g_p‖ below 1e-9 of the whole gradient's
    /// norm ‖g‖: the attention's key bias, whose gradient is exactly 0 in exact arithmetic, since adding the same number
    /// to every score of a row leaves its softmax unchanged) is measured against ‖g‖ instead.
    /// </summary>
    /// <param name="library">The library's gradients, one row-major array per parameter.</param>
    /// <param name="torch">PyTorch's, in the same layout.</param>
    /// <returns>The relative error; infinity when the shapes differ.</returns>
    public static double GradientError(IReadOnlyList<double[]> library, IReadOnlyList<double[]> torch)
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(torch);
        if (library.Count != torch.Count || library.Zip(torch).Any(pair => pair.First.Length != pair.Second.Length))
        {
            return double.PositiveInfinity;
        }

        var whole = Math.Sqrt(library.Sum(g => g.Sum(x => x * x)));
        var worst = 0.0;
        for (var p = 0; p < library.Count; p++)
        {
            var norm = Norm(library[p]);
            worst = Math.Max(worst, Distance(library[p], torch[p]) / (norm >= 1e-9 * whole ? norm : whole));
        }

        return worst;
    }

    /// <summary>The RESULTS.md section: how the models were proven equal, then one row per case.</summary>
    /// <param name="peer">The peer's info, or null.</param>
    /// <param name="why">Why there is no peer.</param>
    /// <param name="results">The results.</param>
    /// <returns>Markdown lines.</returns>
    public static IEnumerable<string> Table(JsonObject? peer, string why, IReadOnlyList<TrainingPeerResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var c = CultureInfo.InvariantCulture;
        foreach (var line in PeerComparison.Heading("One training step against PyTorch (same machine, same run)", peer, why))
        {
            yield return line;
        }

        if (peer is null)
        {
            yield break;
        }

        yield return Concatenate(c, $"One step = zero the gradients, loss and gradients of the batch, one Adam update (η = {LearningRate:0.###}, β1 = 0.9, β2 = 0.999, ε = 1e-8), fp64 on both sides, the library's fast path (LossAndGradients(batch, threads)) and PyTorch {peer["torch"]} each on {string.Join(" and ", PeerComparison.ThreadCounts)} thread(s), the faster reported (threads, allocator and BLAS as in the attention section); the models and batches of the training table (notebooks 09-10's sizes; the Elman RNN and the LSTM on remember-the-first-token batches of {TrainingBenchmarks.Batch} sequences, the transformer on notebook 09's reverse task at n = 8 (also with 4-8 digits, a padded batch) and notebook 10's task at n = 51 and 201). ",
            "PyTorch builds each model from its own modules: torch.nn.Embedding, torch.nn.RNN (tanh) or torch.nn.LSTM (gates i, f, g, o, as the library's; its second bias bias_hh held at 0 and frozen, since the library has one bias per gate) and torch.nn.Linear for the readout; for the transformer, pre-LN blocks of torch.nn.LayerNorm (ε = 1e-5), torch.nn.MultiheadAttention (key-padding mask; padding queries' outputs set to 0 as the library's fully masked rows) and two torch.nn.Linear around F.gelu(approximate='tanh'), learned positions, a final LayerNorm and a readout; the step is written as for 1.13 on a CPU: optimizer.zero_grad(set_to_none=True), the readout and F.cross_entropy at the scored positions only, the padding masks built once with the batch, torch.optim.Adam(foreach=True). ",
            $"Before anything is timed, the same model is proven: the library's initial parameters ([in x out] weights transposed into PyTorch's [out x in]) and its batch go to PyTorch, both take one step, and the loss and every parameter's gradient must agree to {Tolerance:0E+0} relative (gradient: the worst parameter's ‖Δg‖ / ‖g‖), Adam's update to {UpdateTolerance:0E+0} (an entry whose gradient is near ε magnifies differences by η / ε). A model that differs is reported here and not timed. Then every contender (each side on each thread count) is timed in each of 3 rounds (each the median of enough steps to fill about 0.3 s). The library's step must be faster (speed-up above 1x).");
        yield return string.Empty;
        yield return "| Model step | n | batch | loss / gradients / Adam vs library | library (fastest) | PyTorch (fastest) | speed-up | target | met | rounds (slowest / fastest), load |";
        yield return "| --- | ---: | ---: | --- | --- | --- | ---: | ---: | --- | --- |";
        foreach (var r in results)
        {
            var agreement = double.IsNaN(r.LossError) ? "-" : string.Create(c, $"{r.LossError:0.0E+0} / {r.GradientError:0.0E+0} / {r.UpdateError:0.0E+0}");
            if (r.Problem is not null || r.Library is null || r.Torch is null)
            {
                yield return string.Create(c, $"| {r.Case.Label} | {r.Case.N} | {r.Sequences} | {agreement} | - | - | not measured: {r.Problem} | >1x | no | {r.Load} |");
                continue;
            }

            yield return string.Create(c, $"| {r.Case.Label} | {r.Case.N} | {r.Sequences} | {agreement} | {r.Library.Ms:0.###} ms, {r.Library.Name} | {r.Torch.Ms:0.###} ms, {r.Torch.Name} | {r.Speedup:0.00}x | >1x | {(r.Speedup > 1 ? "yes" : "no")} | {PeerComparison.Rounds(r.Library, r.Torch, r.Load)} |");
        }
    }

    /// <summary>The line of the targets table: every model's step faster than PyTorch's.</summary>
    /// <param name="peer">The peer's info, or null.</param>
    /// <param name="why">Why there is no peer.</param>
    /// <param name="results">The results.</param>
    /// <returns>One markdown table row.</returns>
    public static string Target(JsonObject? peer, string why, IReadOnlyList<TrainingPeerResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        const string goal = "| one training step of each model of notebooks 09-10 at their sizes: faster than the same model in PyTorch, same run |";
        if (peer is null || results.Count == 0)
        {
            return $"{goal} not measured ({why}) | no |";
        }

        var measured = results.Where(r => r.Problem is null).ToList();
        var slowest = measured.MinBy(r => r.Speedup);
        var failed = results.Count - measured.Count;
        var met = failed == 0 && measured.All(r => r.Speedup > 1);
        var text = slowest is null
            ? "no row measured"
            : string.Create(CultureInfo.InvariantCulture, $"smallest speed-up {slowest.Speedup:0.00}x ({slowest.Case.Label}, n = {slowest.Case.N}); {measured.Count(r => r.Speedup > 1)} of {results.Count} rows faster{(failed > 0 ? $", {failed} not measured" : string.Empty)} (table below)");
        return $"{goal} {text} | {(met ? "yes" : "no")} |";
    }

    /// <summary>One case: the library's first step and the peer's from the same parameters and batch, compared; then, if they agree, the alternating rounds.</summary>
    private static TrainingPeerResult Measure(TorchPeer peer, TrainingPeerCase c, string id, int rounds, double loadBefore)
    {
        var (model, batch) = c.Create();
        var adam = new Adam(LearningRate);
        var before = model.Parameters.Select(p => p.Value.ToRowMajorArray()).ToArray();
        var request = new JsonObject
        {
            ["op"] = "prepare_training",
            ["id"] = id,
            ["model"] = c.PeerModel,
            ["sizes"] = c.Sizes.DeepClone(),
            ["parameters"] = new JsonArray([.. model.Parameters.Select((p, k) => (JsonNode)new JsonArray(p.Value.RowCount, p.Value.ColumnCount, Numbers(before[k])))]),
            ["batch"] = new JsonObject
            {
                ["inputs"] = new JsonArray([.. batch.Inputs.Select(s => (JsonNode)new JsonArray([.. s.Select(t => (JsonNode)t)]))]),
                ["targets"] = new JsonArray([.. batch.Targets.Select(s => (JsonNode)new JsonArray([.. s.Select(t => (JsonNode)t)]))]),
                ["lengths"] = new JsonArray([.. batch.Lengths.Select(t => (JsonNode)t)]),
            },
            ["adam"] = new JsonObject { ["lr"] = adam.LearningRate, ["beta1"] = adam.Beta1, ["beta2"] = adam.Beta2, ["eps"] = adam.Epsilon },
        };

        var gradients = new double[model.Parameters.Count][];
        var loss = Step(model, batch, adam, gradients, Environment.ProcessorCount);
        var after = model.Parameters.Select(p => p.Value.ToRowMajorArray()).ToArray();
        var reply = peer.Send(request);

        // The peer sends a number that is not finite as null; NaN then fails every comparison below.
        var torchGradients = Arrays(reply["gradients"]!);
        var torchAfter = Arrays(reply["parameters"]!);
        var lossError = Math.Abs((reply["loss"]?.GetValue<double>() ?? double.NaN) - loss) / Math.Abs(loss);
        var gradientError = GradientError(gradients, torchGradients);
        var updateError = UpdateError(before, after, torchAfter);
        var modules = reply["modules"]!.GetValue<string>();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  same model? loss {lossError:0.0E+0}, gradients {gradientError:0.0E+0}, Adam update {updateError:0.0E+0}"));
        if (!(lossError <= Tolerance && gradientError <= Tolerance && updateError <= UpdateTolerance))
        {
            var problem = string.Create(CultureInfo.InvariantCulture, $"PyTorch's model is not the library's (loss {lossError:0.0E+0}, gradients {gradientError:0.0E+0}: at most {Tolerance:0E+0}; Adam update {updateError:0.0E+0}: at most {UpdateTolerance:0E+0}): not timed");
            PeerComparison.Release(peer, id);
            return new TrainingPeerResult(c, batch.Count, modules, lossError, gradientError, updateError, null, null, new Load(loadBefore, Load.Now()), problem);
        }

        var library = PeerComparison.OnEachThreadCount("fast path", threads => Step(model, batch, adam, null, threads));
        var (libraryBest, torchBest) = PeerComparison.Alternate(library, PeerComparison.TorchContenders(peer, id, PeerComparison.Variants(reply).Names), rounds);
        PeerComparison.Release(peer, id);
        return new TrainingPeerResult(c, batch.Count, modules, lossError, gradientError, updateError, libraryBest, torchBest, new Load(loadBefore, Load.Now()), null);
    }

    /// <summary>One training step on <paramref name="threads"/> threads; with <paramref name="gradients"/>, a copy of the gradients taken before Adam's update (the check only: not timed).</summary>
    private static double Step(ISequenceModel model, SequenceBatch batch, Adam adam, double[][]? gradients, int threads)
    {
        foreach (var p in model.Parameters)
        {
            p.ZeroGradient();
        }

        var outcome = model.LossAndGradients(batch, threads);
        if (gradients is not null)
        {
            for (var p = 0; p < gradients.Length; p++)
            {
                gradients[p] = model.Parameters[p].Gradient.ToRowMajorArray();
            }
        }

        adam.Update(model.Parameters);
        return outcome.Loss;
    }

    private static double UpdateError(double[][] before, double[][] after, double[][] torchAfter)
    {
        if (torchAfter.Length != before.Length || torchAfter.Zip(before).Any(pair => pair.First.Length != pair.Second.Length))
        {
            return double.PositiveInfinity;
        }

        double difference = 0, size = 0;
        for (var p = 0; p < before.Length; p++)
        {
            for (var i = 0; i < before[p].Length; i++)
            {
                var ours = after[p][i] - before[p][i];
                var theirs = torchAfter[p][i] - before[p][i];
                difference += (ours - theirs) * (ours - theirs);
                size += ours * ours;
            }
        }

        return Math.Sqrt(difference / size);
    }

    private static string Concatenate(IFormatProvider format, FormattableString first, string middle, FormattableString last) => first.ToString(format) + middle + last.ToString(format);

    private static JsonArray Numbers(double[] values) => new([.. values.Select(v => (JsonNode)v)]);

    private static double[][] Arrays(JsonNode node) => [.. node.AsArray().Select(p => p!.AsArray().Select(v => v?.GetValue<double>() ?? double.NaN).ToArray())];

    private static double Norm(double[] values) => Math.Sqrt(values.Sum(x => x * x));

    private static double Distance(double[] a, double[] b) => Math.Sqrt(a.Zip(b).Sum(pair => (pair.First - pair.Second) * (pair.First - pair.Second)));
}
