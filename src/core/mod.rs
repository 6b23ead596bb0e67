//! The sans-IO engine (placeholder until the hub connection lands).
