//! Benchmark inputs shared by the criterion benches.
