//! TraceLogging metadata, decoding and encoding.
