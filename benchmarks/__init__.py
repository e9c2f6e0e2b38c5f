"""dagmesh benchmarks: each measures the stock path and dagmesh's in the same run and reports ratios."""
