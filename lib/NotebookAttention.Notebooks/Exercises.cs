using MathNet.Numerics.LinearAlgebra;
using NotebookAttention.Attention;
using NotebookAttention.Batches;
using NotebookAttention.Recurrence;
using NotebookAttention.Tokens;

namespace NotebookAttention.Notebooks;

/// <summary>
/// The checks behind each notebook's exercises. The right answers are computed here, from the learner's own
/// data, so they stay out of the learner's way in the notebook.
/// </summary>
public static partial class Exercises
{
    private const double Tight = 1e-9;
}
